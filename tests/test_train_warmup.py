"""Training loops, divergence, the warm-up decomposition and the widget helpers."""

from __future__ import annotations

import numpy as np
import pytest

import linnet
from linnet import (
    DivergenceError,
    balanced_factors,
    deep_gd_step,
    end_to_end,
    imbalance,
    layer_gradients,
    lp_loss_grad,
    train_deep,
    train_end_to_end,
    warmup_memory,
    warmup_step_terms,
)


def regression_problem(seed=0, m=20, d=3, k=1):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, d))
    W_star = rng.standard_normal((k, d))
    return X, X @ W_star.T, W_star


def test_train_deep_records_every_step_and_converges():
    X, Y, W_star = regression_problem()
    run = train_deep(balanced_factors(0.1 * np.ones((1, 3)), 2), X, Y, 2, 0.05, 400)
    assert run.W_e.shape == (401, 1, 3) and run.loss.shape == (401,)
    assert run.imbalance.shape == (401, 1)
    np.testing.assert_allclose(run.W_e[-1], W_star, atol=1e-4)
    assert np.all(np.diff(run.loss) <= 1e-12)  # small lr on l2: monotone


def test_train_end_to_end_depth_one_is_gradient_descent():
    X, Y, _ = regression_problem(1)
    run = train_end_to_end(np.zeros((1, 3)), X, Y, 4, 1, 0.01, 5)
    W = np.zeros((1, 3))
    for _ in range(5):
        W = W - 0.01 * lp_loss_grad(W, X, Y, 4)
    np.testing.assert_allclose(run.W_e[-1], W, atol=1e-15)


def test_deep_run_tracks_end_to_end_run_to_first_order():
    # Theorem 1 over a fixed time horizon eta * steps = 0.3: the deep run and the
    # end-to-end rule differ by O(eta), so halving eta halves the largest gap.
    # W0 has full rank: near a zero singular value x -> x^(2/N) is not Lipschitz and
    # the convergence in eta is slower (chapter 3 shows this).
    X, Y, _ = regression_problem(2, k=2)
    W0 = np.array([[0.3, 0.1, -0.2], [0.0, 0.4, 0.2]])

    def max_gap(lr):
        steps = round(0.3 / lr)
        deep = train_deep(balanced_factors(W0, 3), X, Y, 4, lr, steps)
        rule = train_end_to_end(W0, X, Y, 4, 3, lr, steps)
        return np.abs(deep.W_e - rule.W_e).max()

    ratio = max_gap(1e-3) / max_gap(5e-4)
    assert 1.8 < ratio < 2.2  # measured 2.01


def test_keep_weights():
    X, Y, _ = regression_problem()
    run = train_deep(balanced_factors(np.ones((1, 3)), 3), X, Y, 2, 0.01, 3, keep_weights=True)
    assert len(run.weights) == 4 and len(run.weights[0]) == 3


def test_divergence_raises_clear_error():
    X, Y, _ = regression_problem()
    with pytest.raises(DivergenceError, match="diverged at step"):
        train_end_to_end(np.ones((1, 3)), 10 * X, Y, 4, 2, 10.0, 100)
    with pytest.raises(DivergenceError, match="smaller learning rate"):
        train_deep(balanced_factors(np.ones((1, 3)), 2), 10 * X, Y, 4, 10.0, 100)


def test_imbalance_one_step_change_is_exactly_second_order():
    rng = np.random.default_rng(5)
    weights = [
        rng.standard_normal((3, 2)),
        rng.standard_normal((2, 3)),
        rng.standard_normal((1, 2)),
    ]
    G, lr = rng.standard_normal((1, 2)), 0.05
    grads = layer_gradients(weights, G)
    new = deep_gd_step(weights, G, lr)
    for j, (before, after) in enumerate(zip(imbalance(weights), imbalance(new), strict=True)):
        A, B = grads[j + 1], grads[j]
        np.testing.assert_allclose(after - before, lr**2 * (A.T @ A - B @ B.T), atol=1e-13)


def test_warmup_terms_reproduce_deep_step():
    rng = np.random.default_rng(6)
    w1, omega2, g, lr = rng.standard_normal(4), 0.7, rng.standard_normal(4), 0.05
    new_w1, new_omega = deep_gd_step([w1[None, :], [[omega2]]], g[None, :], lr)
    terms = warmup_step_terms(w1, omega2, g, lr)
    w_new = end_to_end([new_w1, new_omega])[0]
    expected = w1 * omega2 - terms.rho * g - terms.along_w + terms.second_order
    np.testing.assert_allclose(w_new, expected, atol=1e-14)


def test_warmup_memory_unrolls_the_trajectory():
    X, y, _ = regression_problem(7)
    y = y[:, 0]
    lr, steps = 0.02, 30
    run = train_deep(
        [0.1 * np.ones((1, 3)), np.array([[0.2]])], X, y, 4, lr, steps, keep_weights=True
    )
    w1 = np.array([w[0][0] for w in run.weights])
    om = np.array([w[1].item() for w in run.weights])
    W = run.W_e[:, 0, :]
    grads = np.array([lp_loss_grad(W[t], X, y, 4) for t in range(steps + 1)])
    mu = warmup_memory(w1, om, grads, lr)
    for t in range(steps):
        inner = w1[t] @ grads[t]
        predicted = (
            W[t]
            - lr * om[t] ** 2 * grads[t]
            - mu[t, :t] @ grads[:t]
            - lr * inner * w1[0]
            + lr**2 * om[t] * inner * grads[t]
        )
        np.testing.assert_allclose(W[t + 1], predicted, atol=1e-12)


def test_widget_helpers_build_linked_stacks():
    pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    import ipywidgets as w
    import matplotlib.pyplot as plt

    from linnet.widgets import precomputed_explorer

    calls = []

    def render(a, b):
        calls.append((a, b))
        fig, ax = plt.subplots(figsize=(1, 1))
        ax.plot([0, 1], [a, b])
        return fig

    box = precomputed_explorer(render, {"a": [1, 2, 3], "b": [0.5, 1.5]}, alt="Line")
    sliders = [c for c in box.children if isinstance(c, w.SelectionSlider)]
    stack = box.children[-1]
    assert len(calls) == 6 and len(sliders) == 2
    assert isinstance(stack, w.Stack) and len(stack.children) == 3
    assert all(isinstance(c, w.Stack) and len(c.children) == 2 for c in stack.children)
    frames = [frame for inner in stack.children for frame in inner.children]
    assert all(isinstance(f, w.HTML) for f in frames)
    assert all('src="data:image/png;base64,iVBORw0KGgo' in f.value for f in frames)  # PNG magic
    assert 'alt="Line (a = 3, b = 1.5)"' in frames[-1].value
    # Every stack follows its slider through a client-side link (no kernel needed): look for
    # the LinkModels in the widget state that a static page embeds.
    from ipywidgets.embed import embed_data

    state = embed_data(views=[box])["manager_state"]["state"]
    linked = {
        (m["state"]["source"][0], m["state"]["target"][0])
        for m in state.values()
        if m["model_name"] == "LinkModel"
    }
    assert (f"IPY_MODEL_{sliders[0].model_id}", f"IPY_MODEL_{stack.model_id}") in linked
    assert all(
        (f"IPY_MODEL_{sliders[1].model_id}", f"IPY_MODEL_{inner.model_id}") in linked
        for inner in stack.children
    )
    with pytest.raises(ValueError, match="at least two values"):
        precomputed_explorer(render, {"a": [1]})
    # HiDPI: rendered at 2x, displayed at the figure's width at 100 dpi (1 inch -> 100 px).
    assert "max-width: 100px" in frames[0].value


def test_explorer_is_live_in_a_kernel_and_precomputed_in_the_book(monkeypatch):
    pytest.importorskip("ipywidgets")
    import matplotlib

    matplotlib.use("Agg")
    import ipywidgets as w
    import matplotlib.pyplot as plt

    from linnet.widgets import STATIC_ENV, explorer

    def render(a):
        fig, ax = plt.subplots(figsize=(1, 1))
        ax.plot([0, 1], [0, a])
        return fig

    monkeypatch.delenv(STATIC_ENV, raising=False)
    live = explorer(render, {"a": [1, 2, 3]}, labels={"a": "learning rate"})
    slider, output = live.children
    assert isinstance(output, w.Output) and not slider.continuous_update
    # both versions open on the first grid value
    assert slider.value == 1 and slider.description == "learning rate"
    assert slider.style.description_width == "10em"  # long labels are not cut
    monkeypatch.setenv(STATIC_ENV, "1")
    static = explorer(render, {"a": [1, 2, 3]})
    assert isinstance(static.children[-1], w.Stack)
    assert static.children[-1].selected_index == 0 and static.children[0].index == 0
    assert isinstance(explorer(render, {"a": [1, 2]}, static=False).children[-1], w.Output)
    with pytest.raises(ValueError, match="at least two values"):
        explorer(render, {"a": [1]})
    # a chosen opening frame, the same in both versions
    static = explorer(render, {"a": [1, 2, 3]}, start={"a": 3})
    assert static.children[0].value == 3 and static.children[-1].selected_index == 2
    slider = explorer(render, {"a": [1, 2, 3]}, start={"a": 3}, static=False).children[0]
    assert slider.value == 3
    with pytest.raises(ValueError, match="not one of"):
        explorer(render, {"a": [1, 2]}, start={"a": 5})
    with pytest.raises(ValueError, match="names no control"):
        explorer(render, {"a": [1, 2]}, start={"b": 1})


def test_public_api_is_documented():
    for name in linnet.__all__:
        doc = getattr(linnet, name).__doc__
        assert doc and len(doc) > 40, name


def test_warmup_first_order_is_claim2_only_for_balanced_factors():
    # Chapter 5: the warm-up's first-order step is Claim 2 with N = 2 iff
    # omega_2^2 = ||w_1||^2; an unbalanced start gives a different step.
    rng = np.random.default_rng(5)
    w1, grad = rng.standard_normal(4), rng.standard_normal(4)

    def gap(omega2):
        terms = warmup_step_terms(w1, omega2, grad, lr=1e-2)
        w = omega2 * w1
        rule = linnet.single_output_update(w, grad, depth=2, lr=1e-2)
        return np.abs(w - terms.rho * grad - terms.along_w - rule).max() / np.abs(rule - w).max()

    for sign in (1.0, -1.0):
        assert gap(sign * np.linalg.norm(w1)) < 1e-12
        assert gap(sign * 0.5 * np.linalg.norm(w1)) > 0.1
