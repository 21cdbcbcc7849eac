"""Checks for the exercises of 09_gan (the GAN game, label smoothing, transposed convolutions)."""

from __future__ import annotations

import numpy as np

from . import NotYet, call, converted, exercise, finite_array


def _best_d_on_a_grid(p: np.ndarray, q: np.ndarray, real_target: float, fake_target: float) -> np.ndarray:
    """The D in (0, 1) that maximises each point's objective, found by brute force on a fine grid."""
    d = np.linspace(1e-5, 1 - 1e-5, 200_001)
    log_d, log_1md = np.log(d), np.log1p(-d)
    # Minus the discriminator's binary cross-entropy at one point: real samples with weight p(x) and target
    # real_target, fakes with weight p_g(x) and target fake_target
    toward_one = p * real_target + q * fake_target
    toward_zero = p * (1 - real_target) + q * (1 - fake_target)
    return np.array([d[np.argmax(a * log_d + b * log_1md)] for a, b in zip(toward_one, toward_zero)])


@exercise("09.2", "the optimal discriminator when its targets are smoothed (real_target for real, fake_target for fakes)")
def smoothed_optimal_discriminator(answer, *, p_data=None, p_g=None) -> None:
    rng = np.random.default_rng(9)
    cases = [(rng.uniform(0.01, 1.0, 40), rng.uniform(0.01, 1.0, 40))]
    if p_data is not None and p_g is not None:  # the notebook's densities, thinned to keep the grid search quick
        step = max(1, len(p_data) // 200)
        cases.append((np.asarray(p_data, "float64")[::step], np.asarray(p_g, "float64")[::step]))
    for real_target, fake_target in ((1.0, 0.0), (0.9, 0.0), (0.9, 0.1)):
        for p, q in cases:
            got = finite_array(call(answer, p.copy(), q.copy(), real_target, fake_target), p.shape,
                         f"D*(x) with targets {real_target:g} and {fake_target:g}")
            kept = np.flatnonzero((p + q) > 1e-6)  # where both densities vanish every D is optimal
            kept = kept[np.linspace(0, len(kept) - 1, min(60, len(kept))).astype(int)]
            best = _best_d_on_a_grid(p[kept], q[kept], real_target, fake_target)
            if not np.allclose(got[kept], best, atol=2e-4):
                if (real_target, fake_target) == (1.0, 0.0):
                    raise NotYet("with the plain targets 1 and 0 your D* is not p_data / (p_data + p_g): "
                                 "re-derive it from the theory section")
                raise NotYet(f"with targets {real_target:g} (real) and {fake_target:g} (fake) your D* does not "
                             "maximise the discriminator's objective at each x: write that objective for one point "
                             "(the real density times the cross-entropy with the real target, plus the same for "
                             "the fakes), set its derivative with respect to D to zero and solve")


@exercise("09.4", "the output size of Conv2DTranspose for padding 'valid' and 'same'")
def conv_transpose_size(answer, **_) -> None:
    from keras import layers

    for n, kernel, stride in ((7, 5, 2), (3, 4, 2), (7, 3, 3), (10, 3, 1), (5, 4, 4), (14, 4, 2)):
        for padding in ("valid", "same"):
            expected = layers.Conv2DTranspose(1, kernel, strides=stride, padding=padding).compute_output_shape(
                (1, n, n, 1))[1]
            got = converted(call(answer, n, kernel, stride, padding), float, "return the output size as a number")
            if got != expected:
                raise NotYet(f"for a {n} x {n} input, kernel {kernel}, stride {stride} and padding={padding!r} your "
                             f"size is not Keras': build that layer and compare (compute_output_shape), and think "
                             "of each input pixel stamping a kernel-sized patch, stride pixels from the last")


def _jsd_of_shift(mu: float) -> float:
    """JSD(N(0, 1) || N(mu, 1)) in nats, by a fine Riemann sum well into both tails."""
    x = np.linspace(-12.0, mu + 12.0, 40_001)
    log_p, log_q = -0.5 * x ** 2, -0.5 * (x - mu) ** 2
    log_p, log_q = log_p - 0.5 * np.log(2 * np.pi), log_q - 0.5 * np.log(2 * np.pi)
    log_m = np.logaddexp(log_p, log_q) - np.log(2)
    integrand = 0.5 * (np.exp(log_p) * (log_p - log_m) + np.exp(log_q) * (log_q - log_m))
    return float(np.sum(integrand) * (x[1] - x[0]))


@exercise("09.6", "the Jensen-Shannon divergence between N(0, 1) and N(mu, 1), in nats")
def jsd_shifted(answer, **_) -> None:
    answers = {}
    for mu in (0.0, 0.5, 1.0, 2.0, 3.0, 5.0):
        answers[mu] = converted(call(answer, mu), float, "return the divergence as a number")
        if not np.isfinite(answers[mu]):
            raise NotYet(f"your divergence for mu = {mu:g} is not a finite number")
    for mu, got in answers.items():  # first the property every JSD has, then the values
        if got < -1e-6 or got > np.log(2) + 1e-6:
            raise NotYet(f"your value for mu = {mu:g} is {got:.3f}: a Jensen-Shannon divergence in nats lies between "
                         "0 and log 2, however far apart the distributions are. Compare each distribution with "
                         "their mixture, not with each other")
    for mu, got in answers.items():
        if abs(got - _jsd_of_shift(mu)) > 1e-4:
            raise NotYet(f"your divergence for mu = {mu:g} is not right yet: check the mixture, the factor 1/2 and "
                         "that you integrate (sum times the grid step) in nats")
