"""Checks for the exercises of 08_autoencoders (autoencoders, the VAE, the recommender)."""

from __future__ import annotations

import numpy as np

from ..reference import sigmoid
from . import NotYet, call, exercise, finite_array


@exercise("08.1", "the gradients of squared error and of cross-entropy with respect to a sigmoid output's logit")
def logit_gradients(answer, **_) -> None:
    a = np.array([-4.6, -2.0, -0.3, 0.0, 0.7, 3.0, 5.0])
    for x in (1.0, 0.0, 0.3):
        got = call(answer, a.copy(), np.full_like(a, x))
        if not (isinstance(got, tuple | list) and len(got) == 2):
            raise NotYet("return two arrays: (gradient of the squared error, gradient of the cross-entropy)")
        s = sigmoid(a)
        expected = (2 * (s - x) * s * (1 - s), s - x)
        for name, g, e in zip(("squared error", "cross-entropy"), got, expected):
            g = finite_array(g, a.shape, f"the gradient of the {name}")
            if not np.allclose(g, e, rtol=1e-5, atol=1e-9):
                raise NotYet(f"the gradient of the {name} is not right yet (target x = {x:g}): differentiate with "
                             "respect to the logit a through x_hat = sigmoid(a), and compare with a finite difference")


def _tied_weights(weights: list[np.ndarray], d: int, k: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The kernel (d, k), the code bias (k,) and the output bias (d,) among a tied model's weights."""
    matrices = [w for w in weights if w.ndim == 2 and sorted(w.shape) == sorted((d, k))]
    codes = [w for w in weights if w.shape == (k,)]
    outputs = [w for w in weights if w.shape == (d,)]
    if len(matrices) != 1 or len(codes) != 1 or len(outputs) != 1:
        raise NotYet(f"expected one {d} x {k} kernel, a bias of {k} for the code and a bias of {d} for the output; "
                     f"your model's weights have shapes {[w.shape for w in weights]}")
    kernel = matrices[0] if matrices[0].shape == (d, k) else matrices[0].T
    return kernel, codes[0], outputs[0]


@exercise("08.2", "a dense autoencoder whose decoder reuses the encoder's kernel, transposed")
def tied_autoencoder(answer, *, x) -> None:
    import keras

    x = np.asarray(x, dtype="float32")
    n, d = len(x), int(np.prod(x.shape[1:]))
    rng = np.random.default_rng(0)
    for k in (32, 8):
        model = call(answer, k)
        if not isinstance(model, keras.Model):
            raise NotYet(f"return the Keras model itself, not a {type(model).__name__}")
        out = np.asarray(keras.ops.convert_to_numpy(model(x)))
        if out.shape != x.shape:
            raise NotYet(f"the model should map images of shape {x.shape[1:]} to the same shape; got {out.shape[1:]}")
        if model.count_params() != d * k + k + d:
            raise NotYet(f"with a {k}-number code your model has {model.count_params():,} parameters: a tied "
                         "autoencoder owns one kernel, the encoder's, plus a bias on each side")
        # Random weights everywhere (zero biases would hide a missing or misplaced bias), then the formula in NumPy
        weights = [rng.normal(0.0, 0.05, w.shape).astype(w.dtype) for w in model.get_weights()]
        model.set_weights(weights)
        W, b, c = _tied_weights(weights, d, k)
        h = np.maximum(x.reshape(n, d) @ W + b, 0.0)
        expected = sigmoid(h @ W.T + c).reshape(x.shape)
        got = np.asarray(keras.ops.convert_to_numpy(model(x)))
        if not np.allclose(got, expected, atol=1e-4):
            raise NotYet("the output is not sigmoid(h W^T + c) with h = relu(x W + b) and W the encoder's kernel: "
                         "does the decoder multiply by the transposed encoder kernel and end with a sigmoid?")


@exercise("08.6", "masking noise rescaled as Dropout does it")
def rescaled_masking(answer, *, x, rate: float) -> None:
    x = np.asarray(x, dtype="float64")
    got = finite_array(call(answer, x.copy(), rate, np.random.default_rng(0)), x.shape, "the corrupted images")
    lit = x != 0
    if np.any(got[~lit] != 0):
        raise NotYet("a pixel that is zero in the input must stay zero")
    zeroed = lit & np.isclose(got, 0.0, atol=1e-9)
    share = zeroed.sum() / lit.sum()
    if abs(share - rate) > 0.01:
        raise NotYet(f"{share:.1%} of the non-zero pixels were set to zero; each should be, independently, with "
                     f"probability rate = {rate:g}")
    kept = lit & ~zeroed
    if not np.allclose(got[kept], x[kept] / (1 - rate), rtol=1e-5):
        raise NotYet("the pixels you keep are not scaled as Dropout scales them: compare a few with "
                     "keras.layers.Dropout(rate)(x, training=True)")


@exercise("08.8", "the contractive penalty of a tanh encoder in closed form")
def tanh_penalty(answer, **_) -> None:
    rng = np.random.default_rng(3)
    eps = 1e-6
    for n, d, k in ((4, 6, 3), (3, 10, 5)):
        x, W, b = rng.normal(size=(n, d)), 0.5 * rng.normal(size=(d, k)), rng.normal(size=k)
        got = finite_array(call(answer, x.copy(), W.copy(), b.copy()), (n,), "the penalty (one number per example)")
        numeric = np.array([  # ||J||_F^2 with J[i, j] = d h_j / d x_i by central differences
            np.sum(np.stack([(np.tanh((x0 + eps * e) @ W + b) - np.tanh((x0 - eps * e) @ W + b)) / (2 * eps)
                             for e in np.eye(d)]) ** 2) for x0 in x])
        if not np.allclose(got, numeric, rtol=1e-5):
            raise NotYet("your penalty differs from ||J||_F^2 computed by central differences: derive "
                         "d h_j / d x_i for h = tanh(x W + b) again (the derivative of tanh is not the sigmoid's)")


@exercise("08.9", "active latent units by Burda et al.'s criterion: the variance of the posterior mean over images")
def burda_active_units(answer, *, mean, threshold: float = 0.01) -> None:
    scales = np.array([0.0, 0.05, 0.2, 1.0, 0.08, 3.0, 0.12])
    synthetic = np.random.default_rng(5).normal(size=(2000, len(scales))) * scales + np.linspace(-2.0, 2.0, len(scales))
    for m, t in ((np.asarray(mean, dtype="float64"), threshold), (synthetic, 0.01), (synthetic, 0.03)):
        got = np.asarray(call(answer, m.copy(), t))
        if got.shape != (m.shape[1],):
            raise NotYet(f"return one flag per latent unit: expected shape ({m.shape[1]},), got {got.shape}")
        if got.dtype != bool:
            raise NotYet(f"return booleans (True = active), got dtype {got.dtype}")
        if not any(np.array_equal(got, m.var(axis=0, ddof=ddof) > t) for ddof in (0, 1)):
            raise NotYet("your flags differ from the criterion: a unit is active when its posterior mean mu_u(x) "
                         "varies across the images by more than the threshold (a variance, over the image axis)")
