r"""Regression data for the experiments of Section 7.1 of the paper.

Three sources, one return type (:class:`RegressionData`, a named tuple whose
first two fields are ``X`` of shape ``(m, d)`` and ``y`` of shape ``(m,)``):

* :func:`sensor_like`: a seeded synthetic problem that mimics the paper's
  gas-sensor data (always available, no download);
* :func:`tecator`: real near-infrared spectra of meat (Tecator), shipped with
  ``linnet`` as a small compressed CSV with its permission note;
* :func:`uci_gas`: the paper's own data (UCI "Gas Sensor Array Drift at
  Different Concentrations", ethanol subset), which its licence does not let
  us redistribute: the reader supplies the file.

**Preprocessing** (the paper does not state its own): with
``standardize=True`` (the default) every feature column is z-scored (mean 0,
standard deviation 1) and the target is centred and scaled to standard
deviation 1, because the linear models of the paper have no bias term.  The
means and scales used are returned, so predictions can be mapped back.  With
``standardize=False`` the raw values are returned.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
from importlib import resources
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ._validation import FloatArray, as_finite_array, as_int, as_real

__all__ = [
    "GAS_NAMES",
    "GAS_R2",
    "RegressionData",
    "least_squares_r2",
    "sensor_like",
    "tecator",
    "uci_gas",
    "zscore",
]

#: Least-squares :math:`R^2` of the paper's data, the z-scored 2565 x 128 ethanol table of the
#: UCI gas-sensor set (public copy ``uci_datasets/gas/data.csv.gz``, sha256
#: ``bd82bee47199d3952bee30a59739794b26baa742e1da7f7bd42b9a34552321a1``), computed by
#: :func:`least_squares_r2` and recorded with its provenance in
#: ``gas_least_squares.json``, shipped in ``linnet.resources.results_dir()`` (a test keeps
#: the two equal).  The synthetic :func:`sensor_like` data are calibrated to it with
#: ``r2=GAS_R2``.
GAS_R2 = 0.9436274368487378

# Gas codes of the UCI gas-sensor drift data (the number before ``;``).
GAS_NAMES = {
    1: "ethanol",
    2: "ethylene",
    3: "ammonia",
    4: "acetaldehyde",
    5: "acetone",
    6: "toluene",
}


class RegressionData(NamedTuple):
    """A regression data set: ``X`` (m, d) and ``y`` (m,) first, then how they were made.

    Attributes
    ----------
    X
        Inputs, shape ``(m, d)``.
    y
        Targets, shape ``(m,)``.
    name
        Name of the data set.
    preprocessing
        What was done to the raw values, in words.
    x_mean
        Shape ``(d,)``: ``X = (X_raw - x_mean) / x_scale`` (zeros if not standardised).
    x_scale
        Shape ``(d,)`` (ones if not standardised).
    y_mean
        ``y = (y_raw - y_mean) / y_scale``.
    y_scale
        See ``y_mean``.
    """

    X: FloatArray
    y: FloatArray
    name: str
    preprocessing: str
    x_mean: FloatArray
    x_scale: FloatArray
    y_mean: float
    y_scale: float


def zscore(X: ArrayLike, y: ArrayLike, name: str, enabled: bool = True) -> RegressionData:
    """Validate ``X`` (m, d) and ``y`` (m,) and z-score them (see the module docstring).

    Constant feature columns are centred but not scaled (their scale is set to 1).

    Parameters
    ----------
    X : array_like, shape (m, d)
    y : array_like, shape (m,)
    name : str
        Name of the data set.
    enabled : bool, default True
        ``False`` returns the validated raw values.

    Returns
    -------
    RegressionData

    Examples
    --------
    >>> data = zscore([[1.0, 10.0], [3.0, 30.0]], [0.0, 4.0], "toy")
    >>> data.X.tolist(), data.y.tolist()
    ([[-1.0, -1.0], [1.0, 1.0]], [-1.0, 1.0])
    """
    inputs = as_finite_array("X", X, 2)
    targets = as_finite_array("y", y, 1)
    m, d = inputs.shape
    if targets.shape != (m,):
        raise ValueError(f"y must have shape (m,) = ({m},) like X, got {targets.shape}")
    if m < 2:
        raise ValueError(f"a regression data set needs at least 2 examples, got m = {m}")
    if not isinstance(enabled, (bool, np.bool_)):
        raise TypeError(f"standardize must be True or False, got {enabled!r}")
    if not enabled:
        return RegressionData(
            inputs,
            targets,
            name,
            "raw values (not standardised)",
            np.zeros(d),
            np.ones(d),
            0.0,
            1.0,
        )
    x_mean = inputs.mean(axis=0)
    x_scale = inputs.std(axis=0)
    x_scale = np.where(x_scale > 0, x_scale, 1.0)
    y_mean = float(targets.mean())
    y_scale = float(targets.std()) or 1.0
    return RegressionData(
        X=(inputs - x_mean) / x_scale,
        y=(targets - y_mean) / y_scale,
        name=name,
        preprocessing=(
            "features z-scored (mean 0, standard deviation 1 per column); "
            "target centred and scaled to standard deviation 1"
        ),
        x_mean=x_mean,
        x_scale=x_scale,
        y_mean=y_mean,
        y_scale=y_scale,
    )


def least_squares_r2(X: ArrayLike, y: ArrayLike) -> float:
    r"""The least-squares :math:`R^2` of ``y`` on ``X`` with an intercept.

    :math:`R^2 = 1 - \|y_c - X_c b\|^2 / \|y_c\|^2` with :math:`X_c`, :math:`y_c`
    the centred data and :math:`b` the least-squares coefficients (``lstsq``,
    minimum norm); equivalently, the :math:`R^2` of the linear model without
    bias on z-scored data (:func:`zscore`), which is how Section 7.1's
    models see the data.  Near 1 the problem is almost noiseless: the
    :math:`\ell_2` optimum :math:`L^*` is then a tiny fraction
    :math:`(1 - R^2)` of the loss at zero.

    Parameters
    ----------
    X : array_like, shape (m, d)
    y : array_like, shape (m,)

    Returns
    -------
    float

    Examples
    --------
    >>> round(least_squares_r2([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0]), 12)
    1.0
    >>> round(least_squares_r2([[0.0], [1.0], [2.0], [3.0]], [0.0, 1.0, 0.0, 1.0]), 3)
    0.2
    """
    inputs = as_finite_array("X", X, 2)
    targets = as_finite_array("y", y, 1)
    if targets.shape != (inputs.shape[0],):
        raise ValueError(f"y must have shape ({inputs.shape[0]},) like X, got {targets.shape}")
    Xc = inputs - inputs.mean(axis=0)
    yc = targets - targets.mean()
    total = float(yc @ yc)
    if total == 0:
        raise ValueError("y is constant: R^2 is undefined")
    residual = yc - Xc @ np.linalg.lstsq(Xc, yc, rcond=None)[0]
    return 1.0 - float(residual @ residual) / total


def _noise_for_r2(X: FloatArray, signal: FloatArray, e: FloatArray, r2: float) -> float:
    """The ``sigma`` for which ``signal + sigma e`` on ``X`` has least-squares R^2 = ``r2``.

    Residual and total sums of squares are quadratics in ``sigma``; their ratio
    equals ``1 - r2`` at the one positive root of a quadratic.
    """
    Xc = X - X.mean(axis=0)
    s = signal - signal.mean()
    n = e - e.mean()

    def off(v: FloatArray) -> FloatArray:
        return v - Xc @ np.linalg.lstsq(Xc, v, rcond=None)[0]

    a, b, k = off(s), off(n), 1.0 - r2
    A = b @ b - k * (n @ n)
    B = a @ b - k * (s @ n)
    C = a @ a - k * (s @ s)
    low, high = 1.0 - (b @ b) / (n @ n), 1.0 - (a @ a) / (s @ s)
    if not (A > 0 and C < 0):
        raise ValueError(
            f"r2 = {r2} is not reachable by adding noise to these features: it must lie "
            f"strictly between {low:.6g} (noise only) and {high:.6g} (no noise)"
        )
    return float((-B + np.sqrt(B * B - A * C)) / A)


def sensor_like(
    m: int = 2565,
    d: int = 128,
    seed: int = 0,
    *,
    noise: float | None = None,
    r2: float | None = None,
    standardize: bool = True,
) -> RegressionData:
    r"""A seeded synthetic regression that mimics the paper's gas-sensor data.

    Built like the UCI data of Section 7.1: a latent gas concentration
    :math:`c_i` (log-uniform on 5-1000) is read by ``ceil(d / 8)`` sensors; each
    sensor has its own monotone, saturating response
    :math:`f_s(c) = (c / (c + K_s))^{a_s}` and gives 8 nearly collinear features
    (the response to slightly different powers, plus a small independent error), and
    every feature also picks up a shared slow drift of the sensors over the
    acquisition time :math:`\tau_i` (samples are in time order).  Raw columns get
    scales spanning two decades (:math:`10^{-1}` to :math:`10^{1}`).  The
    target is :math:`\log c_i` plus Gaussian noise of standard deviation
    ``noise``.  With the defaults the z-scored features have
    :math:`\mathrm{cond}(X^\top X)` of about :math:`10^{7}`-:math:`10^{8}`, as
    ill-conditioned as the real data.

    **Calibration.** With the default ``noise=0.01`` the problem is nearly
    noiseless (least-squares :math:`R^2 \approx 0.9999` at 512 x 32, and
    :math:`L_4^*` about ``3e-8`` of the loss at zero), far from the paper's
    data, whose least-squares :math:`R^2` is ``GAS_R2 = 0.9436``
    (the z-scored ethanol table, recorded in
    ``gas_least_squares.json`` of ``linnet.resources.results_dir()``, with the data
    file's sha256).
    ``r2=GAS_R2`` chooses the noise level (same seeded noise draw, scaled)
    so that ``least_squares_r2`` of the returned data equals ``r2``
    exactly (up to round-off); the chosen standard deviation is found in
    closed form, since both sums of squares are quadratic in it.

    Parameters
    ----------
    m, d : int
        Examples and features (``m >= 2``, ``d >= 1``); defaults as the
        ethanol subset of the UCI data (2565 x 128).
    seed : int, default 0
    noise : float, optional
        Standard deviation of the target noise (``>= 0``); default 0.01.
        Not together with ``r2``.
    r2 : float, optional
        Least-squares :math:`R^2` to calibrate the noise to (e.g.
        ``GAS_R2``); must lie between the :math:`R^2` of noise alone and
        that of the noiseless target.
    standardize : bool, default True
        z-score the features and standardise the target (module docstring).

    Returns
    -------
    RegressionData

    Examples
    --------
    >>> data = sensor_like(m=300, d=16, seed=0)
    >>> data.X.shape, data.y.shape
    ((300, 16), (300,))
    >>> bool(np.allclose(data.X.std(axis=0), 1.0))
    True
    >>> calibrated = sensor_like(m=512, d=32, seed=0, r2=GAS_R2)
    >>> round(least_squares_r2(calibrated.X, calibrated.y), 6)
    0.943627
    """
    m_ = as_int("m", m, 2)
    d_ = as_int("d", d, 1)
    rng = np.random.default_rng(as_int("seed", seed, 0))
    if noise is not None and r2 is not None:
        raise TypeError("give noise or r2, not both")
    sigma = 0.01 if noise is None else as_real("noise", noise)
    if sigma < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    target_r2 = None if r2 is None else as_real("r2", r2)
    if target_r2 is not None and not 0 < target_r2 < 1:
        raise ValueError(f"r2 must lie in (0, 1), got {r2}")
    n_sensors = -(-d_ // 8)
    conc = np.exp(rng.uniform(np.log(5.0), np.log(1000.0), m_))
    tau = np.linspace(0.0, 1.0, m_)
    drift = np.stack([tau, np.sin(2.0 * np.pi * tau)], axis=1)  # slow drift over time
    columns = []
    for s in range(n_sensors):
        K = np.exp(rng.uniform(np.log(20.0), np.log(500.0)))
        a = rng.uniform(0.5, 1.5)
        base = (conc / (conc + K)) ** a
        for j in range(8):
            if len(columns) == d_:
                break
            power = 1.0 + 0.15 * (j - 3.5) / 3.5 * rng.uniform(0.5, 1.0)
            feature = base**power
            feature = feature + 0.05 * drift @ rng.standard_normal(2) * (s % 3 + 1)
            feature = feature + 7e-4 * rng.standard_normal(m_)
            columns.append(feature)
    X_raw = np.stack(columns, axis=1) * 10.0 ** rng.uniform(-1.0, 1.0, d_)
    e = rng.standard_normal(m_)
    if target_r2 is not None:
        sigma = _noise_for_r2(X_raw, np.log(conc), e, target_r2)
    y_raw = np.log(conc) + sigma * e
    return zscore(X_raw, y_raw, "sensor_like", standardize)


def _package_file(name: str) -> Any:
    return resources.files("linnet").joinpath("_datasets", name)


def tecator(target: str = "fat", *, standardize: bool = True) -> RegressionData:
    """The Tecator meat data: 215 near-infrared spectra and their fat, water or protein content.

    Recorded on a Tecator Infratec Food and Feed Analyzer (850-1050 nm, near
    infrared transmission); each sample is finely chopped meat.  Shipped with
    ``linnet`` as ``_datasets/tecator.csv.gz`` with the data source's
    permission note beside it (``_datasets/TECATOR_PERMISSION.txt``, which
    also records the provenance: StatLib via the R package ``modeldata``,
    data set ``meats``).  Spectra are smooth, so neighbouring channels are
    almost collinear and :math:`X^\\top X` is very ill-conditioned.

    Parameters
    ----------
    target : {"fat", "water", "protein"}
        Which content (percent) to predict.
    standardize : bool, default True
        z-score the features and standardise the target (module docstring).

    Returns
    -------
    RegressionData

    Examples
    --------
    >>> data = tecator()
    >>> data.X.shape, data.y.shape
    ((215, 100), (215,))
    >>> round(data.y_mean, 2)  # mean fat content, percent
    18.14
    """
    targets = ("water", "fat", "protein")
    if not isinstance(target, str):
        raise TypeError(f"target must be one of {list(targets)}, got {target!r}")
    if target not in targets:
        raise ValueError(f"unknown target {target!r}; choose one of {list(targets)}")
    with _package_file("tecator.csv.gz").open("rb") as raw, gzip.open(raw, "rt") as text:
        header = text.readline().strip().split(",")
        table = np.loadtxt(text, delimiter=",", ndmin=2)
    X_raw = table[:, :100]
    y_raw = table[:, header.index(target)]
    return zscore(X_raw, y_raw, f"tecator ({target})", standardize)


_DAT_LINE = re.compile(r"^\s*(\d+)\s*;\s*([^\s]+)\s+(.*)$")


def _parse_dat(text: str, source: str, gas: int) -> tuple[list[list[float]], list[float]]:
    """Rows of the UCI ``batch*.dat`` format ``gas;concentration 1:v1 2:v2 ... 128:v128``."""
    rows: list[list[float]] = []
    targets: list[float] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _DAT_LINE.match(line)
        if match is None:
            raise ValueError(
                f"{source}, line {number}: expected 'gas;concentration 1:value 2:value ...', "
                f"got {line[:60]!r}"
            )
        if int(match.group(1)) != gas:
            continue
        values: dict[int, float] = {}
        for item in match.group(3).split():
            index, sep, value = item.partition(":")
            if not sep:
                raise ValueError(f"{source}, line {number}: bad feature {item!r} (want idx:value)")
            values[int(index)] = float(value)
        if sorted(values) != list(range(1, 129)):
            raise ValueError(
                f"{source}, line {number}: expected features 1..128, got {len(values)} features"
            )
        rows.append([values[i] for i in range(1, 129)])
        targets.append(float(match.group(2)))
    return rows, targets


def _dat_members(where: Path) -> list[tuple[str, str]]:
    """``(name, text)`` of the ``.dat`` files of a zip, in batch order; one nested zip level."""
    try:
        archive_ = zipfile.ZipFile(where)
    except zipfile.BadZipFile as error:
        raise ValueError(f"{where}: damaged zip archive ({error}); {_EXPECTED}") from None
    with archive_ as archive:
        names = sorted(
            (n for n in archive.namelist() if n.lower().endswith(".dat")), key=_batch_key
        )
        if names:
            return [(f"{where}:{n}", _decode(archive.read(n), f"{where}:{n}")) for n in names]
        for inner in (n for n in archive.namelist() if n.lower().endswith(".zip")):
            with zipfile.ZipFile(io.BytesIO(archive.read(inner))) as nested:
                found = sorted(
                    (n for n in nested.namelist() if n.lower().endswith(".dat")), key=_batch_key
                )
                if found:
                    return [
                        (f"{where}:{inner}:{n}", _decode(nested.read(n), f"{where}:{inner}:{n}"))
                        for n in found
                    ]
    raise ValueError(f"{where}: the archive holds no .dat files")


def _batch_key(name: str) -> tuple[int, str]:
    digits = re.findall(r"\d+", Path(name).name)
    return (int(digits[-1]) if digits else 0, name)


_EXPECTED = (
    "expected the UCI zip archive, a directory of batch*.dat files, a .dat file "
    "('gas;concentration 1:value ... 128:value' per line), or a CSV of 128 feature "
    "columns and the target (plain, or gzip-compressed such as data.csv.gz)"
)
_GZIP_MAGIC = b"\x1f\x8b"
_ZIP_MAGIC = b"PK\x03\x04"


def _decode(raw: bytes, source: str) -> str:
    """UTF-8 text of a data file, else a ``ValueError`` saying what was expected."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"{source}: not a text file ({error.reason}); {_EXPECTED}") from None


def _parse_csv(text: str, source: str) -> tuple[list[list[float]], list[float]]:
    """Rows of a CSV with 128 feature columns and the target (a header line is skipped)."""
    lines = [line for line in csv.reader(io.StringIO(text)) if line]
    if lines and not _is_number(lines[0][0]):
        lines = lines[1:]
    rows: list[list[float]] = []
    targets: list[float] = []
    for number, line in enumerate(lines, start=1):
        if len(line) != 129:
            raise ValueError(
                f"{source}, row {number}: expected 128 feature columns and the target "
                f"(129 values), got {len(line)}"
            )
        try:
            values = [float(v) for v in line]
        except ValueError:
            raise ValueError(
                f"{source}, row {number}: expected 129 numbers, got {','.join(line)[:60]!r}"
            ) from None
        rows.append(values[:128])
        targets.append(values[128])
    return rows, targets


def _parse_text(
    text: str, name: str, source: str, gas: int
) -> tuple[list[list[float]], list[float]]:
    """A ``.csv`` by name, a ``.dat`` by name, else by its first line (``;`` or ``,``)."""
    lower = name.lower()
    if lower.endswith(".csv"):
        return _parse_csv(text, source)
    if lower.endswith(".dat"):
        return _parse_dat(text, source, gas)
    first = next((line for line in text.splitlines() if line.strip()), "")
    if _DAT_LINE.match(first):
        return _parse_dat(text, source, gas)
    if "," in first:
        return _parse_csv(text, source)
    raise ValueError(f"{source}: unrecognised content {first[:60]!r}; {_EXPECTED}")


def _read_file(where: Path, gas: int) -> tuple[list[list[float]], list[float]]:
    """One file: a zip (by its signature), gzip-compressed text, or plain text."""
    with where.open("rb") as handle:
        head = handle.read(4)
    if head.startswith(_ZIP_MAGIC):
        rows: list[list[float]] = []
        targets: list[float] = []
        for source, text in _dat_members(where):
            r, t = _parse_dat(text, source, gas)
            rows += r
            targets += t
        return rows, targets
    if head.startswith(_GZIP_MAGIC):
        try:
            raw = gzip.decompress(where.read_bytes())
        except (OSError, EOFError) as error:
            raise ValueError(f"{where}: damaged gzip file ({error}); {_EXPECTED}") from None
        inner = where.name[:-3] if where.name.lower().endswith(".gz") else where.name
        return _parse_text(_decode(raw, str(where)), inner, str(where), gas)
    if where.suffix.lower() == ".zip":
        raise ValueError(f"{where}: not a zip archive (no zip signature); {_EXPECTED}")
    return _parse_text(_decode(where.read_bytes(), str(where)), where.name, str(where), gas)


def uci_gas(path: str | Path, *, gas: str = "ethanol", standardize: bool = True) -> RegressionData:
    """The paper's data: UCI "Gas Sensor Array Drift at Different Concentrations".

    Section 7.1 of the paper regresses the concentration of ethanol on the
    128 features of a 16-sensor array (2565 samples).  The data are licensed
    for research use only, so they are not shipped: download them from the
    UCI Machine Learning Repository and pass the path.  Accepted:

    * the zip archive as UCI distributes it (recognised by its signature; its
      ``batch*.dat`` files are read in batch order, also from a zip nested
      inside it);
    * a directory holding ``batch*.dat`` files, or one ``.dat`` file, in the
      format ``gas;concentration 1:value 2:value ... 128:value``;
    * a CSV file with 128 feature columns followed by the target (a header
      line is skipped if present), plain or gzip-compressed (recognised by
      its signature, e.g. ``data.csv.gz``, the ``gas`` table of the public
      ``uci_datasets`` collection, which is exactly the 2565 x 128 ethanol
      table); a CSV is taken as already the chosen gas.

    A file of any other kind gets a ``ValueError`` that lists these formats.

    Parameters
    ----------
    path : str or pathlib.Path
    gas : str, default "ethanol"
        Which gas to keep from ``.dat`` data (one of the values of ``GAS_NAMES``).
    standardize : bool, default True
        z-score the features and standardise the target (module docstring).

    Returns
    -------
    RegressionData
        ``X`` of shape (m, 128), ``y`` the concentration (ppmv, before scaling).

    Examples
    --------
    >>> import tempfile, os
    >>> lines = [f"{1 if i % 2 else 2};{10.0 * i} " + " ".join(
    ...     f"{j}:{i * j % 7}" for j in range(1, 129)) for i in range(1, 7)]
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with open(os.path.join(tmp, "batch1.dat"), "w") as f:
    ...         _ = f.write("\\n".join(lines))
    ...     data = uci_gas(tmp)
    >>> data.X.shape, data.y_mean
    ((3, 128), 30.0)
    """
    if not isinstance(path, (str, Path)):
        raise TypeError(f"path must be a file or directory name, got {path!r}")
    if not isinstance(gas, str) or gas not in GAS_NAMES.values():
        raise ValueError(f"unknown gas {gas!r}; choose one of {list(GAS_NAMES.values())}")
    code = next(c for c, n in GAS_NAMES.items() if n == gas)
    where = Path(path)
    if not where.exists():
        raise FileNotFoundError(
            f"{where}: no such file or directory. Download 'Gas Sensor Array Drift Dataset "
            "at Different Concentrations' from the UCI Machine Learning Repository and pass "
            "the zip, its batch*.dat files' directory, or a CSV (plain or .csv.gz)"
        )
    rows: list[list[float]] = []
    targets: list[float] = []
    if where.is_dir():
        files = sorted(where.glob("**/*.dat"), key=lambda f: _batch_key(str(f)))
        if not files:
            raise ValueError(f"{where}: directory holds no .dat files")
        for file in files:
            r, t = _parse_dat(_decode(file.read_bytes(), str(file)), str(file), code)
            rows += r
            targets += t
    else:
        rows, targets = _read_file(where, code)
    if not rows:
        raise ValueError(f"{where}: no samples of {gas} found")
    X_raw = np.array(rows, dtype=np.float64)
    y_raw = np.array(targets, dtype=np.float64)
    return zscore(X_raw, y_raw, f"UCI gas sensors ({gas})", standardize)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
