"""Data loaders: shapes, preprocessing, the shipped Tecator file, the UCI gas parser."""

from __future__ import annotations

import gzip
import zipfile
from importlib import resources

import numpy as np
import pytest

from linnet import datasets


def check_standardized(data, m, d):
    assert data.X.shape == (m, d) and data.y.shape == (m,)
    assert np.all(np.isfinite(data.X)) and np.all(np.isfinite(data.y))
    # z-scored to round-off (the mean of m numbers of size ~1: ~1e-15 per entry).
    np.testing.assert_allclose(data.X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(data.X.std(axis=0), 1.0, rtol=1e-12)
    assert abs(data.y.mean()) < 1e-12 and data.y.std() == pytest.approx(1.0)
    assert "z-scored" in data.preprocessing


def test_sensor_like_shape_seed_and_conditioning():
    data = datasets.sensor_like(seed=0)
    check_standardized(data, 2565, 128)
    X, y = data[:2]  # X, y come first
    assert X is data.X and y is data.y
    cond = np.linalg.cond(data.X.T @ data.X)
    assert 1e7 <= cond <= 1e8, cond  # as ill-conditioned as the gas data, as documented
    again = datasets.sensor_like(seed=0)
    np.testing.assert_array_equal(again.X, data.X)
    other = datasets.sensor_like(seed=1)
    assert not np.allclose(other.X, data.X)


def test_sensor_like_raw_scales_span_two_decades():
    raw = datasets.sensor_like(m=500, d=40, seed=2, standardize=False)
    assert raw.preprocessing.startswith("raw")
    spread = raw.X.std(axis=0)
    assert spread.max() / spread.min() > 10
    z = datasets.sensor_like(m=500, d=40, seed=2)
    np.testing.assert_allclose(z.X * z.x_scale + z.x_mean, raw.X, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(z.y * z.y_scale + z.y_mean, raw.y, rtol=1e-12)


@pytest.mark.parametrize("target", ["fat", "water", "protein"])
def test_tecator(target):
    data = datasets.tecator(target)
    check_standardized(data, 215, 100)
    raw = datasets.tecator(target, standardize=False)
    assert 0 < raw.y.min() and raw.y.max() < 100  # percentages
    assert 2 < raw.X.min() and raw.X.max() < 6  # absorbances


def test_tecator_ships_with_its_permission_note():
    folder = resources.files("linnet").joinpath("_datasets")
    note = " ".join(folder.joinpath("TECATOR_PERMISSION.txt").read_text().split())
    assert "can be redistributed as long as this permission note is attached" in note
    assert "Tecator" in note
    assert folder.joinpath("tecator.csv.gz").is_file()


def gas_lines(n_per_gas=3, gases=(1, 2)):
    """Lines in the UCI format, with known values: feature j of sample i is i + j / 1000."""
    lines, ethanol = [], []
    i = 0
    for _ in range(n_per_gas):
        for gas in gases:
            i += 1
            conc = 10.0 * i
            feats = " ".join(f"{j}:{i + j / 1000:.6f}" for j in range(1, 129))
            lines.append(f"{gas};{conc:.6f} {feats}")
            if gas == 1:
                ethanol.append(i)
    return lines, ethanol


def test_uci_gas_dat_directory_zip_and_csv(tmp_path):
    lines, ethanol = gas_lines()
    # Two batches: batch10 must come after batch2 (numeric order, as UCI numbers them).
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "batch2.dat").write_text("\n".join(lines[:4]) + "\n")
    (tmp_path / "dir" / "batch10.dat").write_text("\n".join(lines[4:]) + "\n")
    data = datasets.uci_gas(tmp_path / "dir", standardize=False)
    assert data.X.shape == (3, 128)
    np.testing.assert_allclose(data.y, [10.0 * i for i in ethanol])
    np.testing.assert_allclose(data.X[:, 0], [i + 0.001 for i in ethanol])
    np.testing.assert_allclose(data.X[:, 127], [i + 0.128 for i in ethanol])

    archive = tmp_path / "Dataset.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("Dataset/batch10.dat", "\n".join(lines[4:]) + "\n")
        zf.writestr("Dataset/batch2.dat", "\n".join(lines[:4]) + "\n")
    from_zip = datasets.uci_gas(archive, standardize=False)
    np.testing.assert_array_equal(from_zip.X, data.X)
    np.testing.assert_array_equal(from_zip.y, data.y)

    outer = tmp_path / "download.zip"
    with zipfile.ZipFile(outer, "w") as zf:
        zf.writestr("Dataset.zip", archive.read_bytes())
    from_nested = datasets.uci_gas(outer, standardize=False)
    np.testing.assert_array_equal(from_nested.X, data.X)

    acetone = datasets.uci_gas(archive, gas="ethylene", standardize=False)
    assert acetone.X.shape == (3, 128)

    single = tmp_path / "batch1.dat"
    single.write_text("\n".join(lines))
    np.testing.assert_array_equal(datasets.uci_gas(single, standardize=False).X, data.X)

    table = tmp_path / "ethanol.csv"
    header = ",".join([f"f{j}" for j in range(1, 129)] + ["ppmv"])
    rows = [",".join(f"{v:.6f}" for v in [*x, t]) for x, t in zip(data.X, data.y, strict=True)]
    table.write_text("\n".join([header, *rows]) + "\n")
    from_csv = datasets.uci_gas(table, standardize=False)
    np.testing.assert_allclose(from_csv.X, data.X)
    np.testing.assert_allclose(from_csv.y, data.y)
    check_standardized(datasets.uci_gas(table), 3, 128)


def test_uci_gas_rejects_malformed_files(tmp_path):
    bad = tmp_path / "batch1.dat"
    bad.write_text("1;10.0 1:1.0 2:2.0\n")
    with pytest.raises(ValueError, match=r"features 1\.\.128"):
        datasets.uci_gas(bad)
    bad.write_text("this is not the format\n")
    with pytest.raises(ValueError, match="gas;concentration"):
        datasets.uci_gas(bad)
    table = tmp_path / "x.csv"
    table.write_text("1,2,3\n")
    with pytest.raises(ValueError, match="129 values"):
        datasets.uci_gas(table)
    with pytest.raises(FileNotFoundError, match="UCI"):
        datasets.uci_gas(tmp_path / "missing.zip")
    lines, _ = gas_lines(gases=(2,))
    only_ethylene = tmp_path / "b.dat"
    only_ethylene.write_text("\n".join(lines))
    with pytest.raises(ValueError, match="no samples of ethanol"):
        datasets.uci_gas(only_ethylene)
    no_dat = tmp_path / "no_dat.zip"
    with zipfile.ZipFile(no_dat, "w") as zf:
        zf.writestr("readme.txt", "nothing here")
    with pytest.raises(ValueError, match=r"no \.dat files"):
        datasets.uci_gas(no_dat)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=r"no \.dat files"):
        datasets.uci_gas(empty)


def test_uci_gas_reads_gzip_compressed_csv_and_dat(tmp_path):
    # The public copy of the ethanol table is data.csv.gz: 128 features and the target,
    # no header. Made here from known values (never the real data).
    lines, ethanol = gas_lines()
    rows = [[i + j / 1000 for j in range(1, 129)] + [10.0 * i] for i in ethanol]
    text = "\n".join(",".join(f"{v:.6f}" for v in row) for row in rows) + "\n"
    plain = tmp_path / "data.csv"
    plain.write_text(text)
    packed = tmp_path / "data.csv.gz"
    packed.write_bytes(gzip.compress(text.encode()))
    from_plain = datasets.uci_gas(plain, standardize=False)
    from_gz = datasets.uci_gas(packed, standardize=False)
    np.testing.assert_array_equal(from_gz.X, from_plain.X)
    np.testing.assert_array_equal(from_gz.y, from_plain.y)
    np.testing.assert_allclose(from_gz.X[:, 0], [i + 0.001 for i in ethanol])
    np.testing.assert_allclose(from_gz.y, [10.0 * i for i in ethanol])
    # Recognised by content, not by name: a gzip CSV without the .gz suffix, a header line.
    renamed = tmp_path / "gas_table"
    header = ",".join([f"f{j}" for j in range(1, 129)] + ["ppmv"])
    renamed.write_bytes(gzip.compress((header + "\n" + text).encode()))
    np.testing.assert_array_equal(datasets.uci_gas(renamed, standardize=False).X, from_gz.X)
    # A gzip-compressed batch file in the UCI .dat format keeps only the chosen gas.
    dat = tmp_path / "batch1.dat.gz"
    dat.write_bytes(gzip.compress("\n".join(lines).encode()))
    np.testing.assert_allclose(datasets.uci_gas(dat, standardize=False).X, from_gz.X)


def test_uci_gas_says_what_it_expected_for_unreadable_files(tmp_path):
    binary = tmp_path / "data.bin"
    binary.write_bytes(bytes(range(128, 256)) * 4)
    with pytest.raises(ValueError, match=r"expected the UCI zip archive.*gzip-compressed"):
        datasets.uci_gas(binary)
    not_zip = tmp_path / "Dataset.zip"
    not_zip.write_text("1;10 1:1\n")
    with pytest.raises(ValueError, match="not a zip archive"):
        datasets.uci_gas(not_zip)
    broken = tmp_path / "data.csv.gz"
    broken.write_bytes(gzip.compress(b"1,2,3\n" * 100)[:30])
    with pytest.raises(ValueError, match="damaged gzip"):
        datasets.uci_gas(broken)
    packed_binary = tmp_path / "x.csv.gz"
    packed_binary.write_bytes(gzip.compress(bytes(range(128, 256))))
    with pytest.raises(ValueError, match="not a text file"):
        datasets.uci_gas(packed_binary)
    words = tmp_path / "notes.txt"
    words.write_text("hello world\n")
    with pytest.raises(ValueError, match="unrecognised content"):
        datasets.uci_gas(words)
    text_cells = tmp_path / "t.csv"
    text_cells.write_text("1," * 128 + "x\n")
    with pytest.raises(ValueError, match="129 numbers"):
        datasets.uci_gas(text_cells)
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "batch1.dat").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ValueError, match="not a text file"):
        datasets.uci_gas(tmp_path / "dir")


def test_shipped_files_are_declared_as_package_data():
    # A wheel built from pyproject.toml must contain the data (checked once by building
    # one: `pip wheel --no-deps .` lists linnet/_datasets/*); guard the declaration.
    import fnmatch
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    config = tomllib.loads((root / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["linnet"]
    shipped = [
        p.relative_to(root / "src" / "linnet") for p in (root / "src/linnet/_datasets").iterdir()
    ]
    for path in shipped:
        assert any(fnmatch.fnmatch(str(path), pat) for pat in patterns), path


def test_sensor_like_calibrated_to_the_gas_data_r2():
    for m, d in ((512, 32), (200, 16)):
        data = datasets.sensor_like(m=m, d=d, seed=0, r2=datasets.GAS_R2)
        # Closed-form noise level: R^2 hits the target to round-off.
        assert datasets.least_squares_r2(data.X, data.y) == pytest.approx(
            datasets.GAS_R2, abs=1e-10
        )
        default = datasets.sensor_like(m=m, d=d, seed=0)
        np.testing.assert_array_equal(data.X, default.X)  # only the target's noise changes
        assert datasets.least_squares_r2(default.X, default.y) > 0.99  # the degenerate default
    r2 = [datasets.least_squares_r2(*datasets.sensor_like(m=300, d=16, r2=v)[:2])
          for v in (0.5, 0.9, 0.99)]  # fmt: skip
    np.testing.assert_allclose(r2, [0.5, 0.9, 0.99], atol=1e-10)
    same = datasets.sensor_like(m=300, d=16, noise=0.01)
    np.testing.assert_array_equal(same.y, datasets.sensor_like(m=300, d=16).y)


def test_sensor_like_r2_bad_input():
    with pytest.raises(TypeError, match="noise or r2"):
        datasets.sensor_like(m=100, d=8, noise=0.1, r2=0.9)
    with pytest.raises(ValueError, match=r"r2 must lie in \(0, 1\)"):
        datasets.sensor_like(m=100, d=8, r2=1.0)
    with pytest.raises(ValueError, match="not reachable"):
        datasets.sensor_like(m=100, d=8, r2=1e-6)  # below what noise alone gives


def test_least_squares_r2_by_hand():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    y = np.array([0.0, 1.0, 0.0, 1.0])
    # slope 0.2, intercept 0.2: residuals -0.2, 0.6, -0.6, 0.2; total 1.0
    assert datasets.least_squares_r2(X, y) == pytest.approx(1 - 0.8 / 1.0, abs=1e-14)
    with pytest.raises(ValueError, match="constant"):
        datasets.least_squares_r2(X, np.ones(4))
