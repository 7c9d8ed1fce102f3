"""Speed benchmarks for linnet (run with `make bench`; not part of the test suite).

Measures, for regression problems of the paper's size (m examples, d inputs, k outputs):

* the cost of one end-to-end update relative to the gradient it preconditions
  (target: a small constant, since it uses one thin SVD and never forms the
  kd x kd preconditioner);
* the same update through the explicit preconditioner, for comparison;
* one step of gradient descent on the factors of a depth-3 network.
"""

from __future__ import annotations

import timeit

import numpy as np

import linnet
from linnet.data import make_regression


def best_time(func, repeat: int = 5, number: int = 20) -> float:
    """Best wall time of one call, in seconds."""
    return min(timeit.repeat(func, repeat=repeat, number=number)) / number


def main() -> None:
    print(
        f"{'m':>6} {'d':>4} {'k':>3} {'grad [ms]':>10} {'update [ms]':>12} {'ratio':>6} "
        f"{'explicit P [ms]':>16} {'deep step [ms]':>15}"
    )
    for m, d, k in [(1000, 32, 1), (1000, 128, 1), (1000, 128, 8), (1000, 128, 32)]:
        X, y, _ = make_regression(m, d, k, seed=0)
        W = 0.1 * np.random.default_rng(0).standard_normal((k, d))
        G = linnet.lp_loss_grad(W, X, y, 4)
        t_grad = best_time(lambda X=X, y=y, W=W: linnet.lp_loss_grad(W, X, y, 4))
        t_update = best_time(lambda W=W, G=G: linnet.end_to_end_update(W, G, 3, 1e-3))
        t_explicit = (
            best_time(lambda W=W: linnet.preconditioner(W, 3), repeat=3, number=1)
            if k * d <= 1024
            else float("nan")
        )
        factors = linnet.balanced_factors(W, 3)
        t_deep = best_time(lambda f=factors, G=G: linnet.deep_gd_step(f, G, 1e-3))
        print(
            f"{m:>6} {d:>4} {k:>3} {1e3 * t_grad:>10.3f} {1e3 * t_update:>12.3f} "
            f"{t_update / t_grad:>6.2f} {1e3 * t_explicit:>16.3f} {1e3 * t_deep:>15.3f}"
        )


if __name__ == "__main__":
    main()
