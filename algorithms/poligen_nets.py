"""PoliGen's two networks: the hypernetwork generator G(c) -> theta and the
fingerprinting evaluator V(theta) -> expected return (paper appendix B).

Flat policy parameters ``theta`` follow :class:`algorithms.common.MLPLayout` (per layer
``W (in, out)`` then ``b (out,)``), so a generated vector runs unchanged in the numpy
rollout code and in :func:`policy_forward` below.

Generator (``HyperGenerator``). Every weight matrix ``W (in, out)`` of the policy is cut
into a grid of slices: ``in/f x out/f`` slices of ``f x f`` for hidden layers, ``1 x out/f``
slices of ``obs_dim x f`` for the input layer and ``in/f x 1`` slices of ``f x act_dim``
for the output layer (``f`` = ``slice_size`` = 16). Each slice has a learned embedding
``z`` (dim 8, N(0, 1) init). Three networks ``H_i``, ``H_h``, ``H_o`` (input, hidden,
output layers; ``H_h`` is shared by all hidden layers) map ``[z, c]`` through a 2x256 ReLU
MLP to the slice. Each has a dedicated bias network of the same shape that emits an
``f``-vector (``act_dim`` for the output layer) per slice; those vectors are averaged
over the input-slice axis to give the layer's bias (appendix B.4). Weights and biases of
a layer are multiplied by ``output_scale / sqrt(fan_in)`` (public code: ``scale_layer_out``
with ``scale_parameter = 2``).

Cost: the first layer of every H is split as ``W_z z + w_c c + b``; ``W_z z`` does not
depend on the command and is computed once per call for all slices (exactly the same
function as a Linear layer on the concatenation ``[z, c]``).

Evaluator (``FingerprintEvaluator``). 200 learnable probing states (uniform [0, 1) init)
are fed to the policy ``theta``; its actions (tanh output mapped to the action box, as
the public code's ``act_lim`` scaling) are concatenated and fed to a 2x256 ReLU MLP ->
scalar. The probing states live in the policy's input space, i.e. the space of
*normalised* observations, as in the public code (they are never normalised themselves).
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from algorithms.common import MLPLayout


def relu_mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers with ReLU between them and no output activation (PyTorch default init)."""
    layers: list[nn.Module] = []
    for i in range(len(sizes) - 1):
        layers.append(nn.Linear(sizes[i], sizes[i + 1]))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


class SliceNet(nn.Module):
    """One hypernetwork ``H``: ``[z, c] -> (weight slice, bias slice)`` for many slices.

    :param emb_dim: size of a slice embedding ``z``
    :param hidden: hidden widths of the weight and bias MLPs
    :param w_shape: shape of one weight slice ``(rows = inputs, cols = outputs)``
    """

    def __init__(self, emb_dim: int, hidden: list[int], w_shape: tuple[int, int]):
        super().__init__()
        self.w_shape = w_shape
        self.net_w = relu_mlp([emb_dim + 1, *hidden, w_shape[0] * w_shape[1]])
        self.net_b = relu_mlp([emb_dim + 1, *hidden, w_shape[1]])

    def _run(self, net: nn.Sequential, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        first = net[0]
        d = z.shape[-1]
        # [z, c] @ W^T + b == z @ W_z^T + c * w_c + b; the z-part is shared by the batch.
        zw = z @ first.weight[:, :d].T + first.bias                       # (S, h)
        x = zw[None] + c[:, None, None] * first.weight[:, d][None, None]  # (B, S, h)
        for layer in list(net)[1:]:
            x = layer(x)
        return x

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """:param z: (S, emb_dim) embeddings; :param c: (B,) scaled commands
        :return: weights (B, S, rows, cols), biases (B, S, cols)"""
        w = self._run(self.net_w, z, c).reshape(c.shape[0], z.shape[0], *self.w_shape)
        b = self._run(self.net_b, z, c)
        return w, b


class HyperGenerator(nn.Module):
    """G_rho: scaled return command (B,) -> flat policy parameters (B, n_params).

    :param layout: the generated policy's shapes (hidden widths multiples of ``slice_size``)
    :param slice_size: f, side of the hidden-layer slices (paper 16)
    :param emb_dim: d, size of each slice embedding (paper 8)
    :param hyper_hidden: hidden widths of every H (paper 256, 256)
    :param output_scale: generated W and b of a layer are multiplied by this / sqrt(fan_in) (paper 2);
        None leaves them unscaled (the public code's ``scale_layer_out=False``, Figure 7's "no scale")
    """

    def __init__(self, layout: MLPLayout, slice_size: int = 16, emb_dim: int = 8,
                 hyper_hidden: tuple[int, ...] = (256, 256), output_scale: float | None = 2.0):
        super().__init__()
        if not layout.hidden_sizes:
            raise ValueError("the hypernetwork generator needs at least one hidden layer")
        if any(h % slice_size for h in layout.hidden_sizes):
            raise ValueError(f"hidden sizes {layout.hidden_sizes} must be multiples of slice_size {slice_size}")
        self.layout = layout
        f = slice_size
        sizes = layout.sizes
        hidden = list(hyper_hidden)
        # per policy layer: (net, tiles_in, tiles_out, slice rows, slice cols)
        self.tilings: list[tuple[int, int, int, int]] = []
        n_layers = len(sizes) - 1
        for j in range(n_layers):
            ti = 1 if j == 0 else sizes[j] // f
            to = 1 if j == n_layers - 1 else sizes[j + 1] // f
            rows = sizes[j] if j == 0 else f
            cols = sizes[j + 1] if j == n_layers - 1 else f
            self.tilings.append((ti, to, rows, cols))
        self.h_in = SliceNet(emb_dim, hidden, (sizes[0], f))
        self.h_hidden = SliceNet(emb_dim, hidden, (f, f)) if n_layers > 2 else None
        self.h_out = SliceNet(emb_dim, hidden, (f, sizes[-1]))
        self.embeddings = nn.ParameterList(
            [nn.Parameter(torch.randn(ti * to, emb_dim)) for ti, to, _, _ in self.tilings])
        self.scales = [1.0 if output_scale is None else output_scale / math.sqrt(sizes[j]) for j in range(n_layers)]

    def _net(self, j: int) -> SliceNet:
        if j == 0:
            return self.h_in
        if j == len(self.tilings) - 1:
            return self.h_out
        return self.h_hidden  # type: ignore[return-value]

    def layers(self, c: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Generated ``[(W (B, in, out), b (B, out)), ...]`` for scaled commands ``c`` (B,)."""
        B = c.shape[0]
        n = len(self.tilings)
        out: list[tuple[torch.Tensor, torch.Tensor] | None] = [None] * n
        # hidden layers share H_h: one pass over all their slices
        hidden_js = list(range(1, n - 1))
        groups = [[0], [n - 1]] + ([hidden_js] if hidden_js else [])
        for js in groups:
            z = torch.cat([self.embeddings[j] for j in js]) if len(js) > 1 else self.embeddings[js[0]]
            w_all, b_all = self._net(js[0])(z, c)
            start = 0
            for j in js:
                ti, to, rows, cols = self.tilings[j]
                s = ti * to
                w = w_all[:, start:start + s].reshape(B, ti, to, rows, cols)
                w = w.permute(0, 1, 3, 2, 4).reshape(B, ti * rows, to * cols)
                b = b_all[:, start:start + s].reshape(B, ti, to, cols).mean(dim=1).reshape(B, to * cols)
                start += s
                out[j] = (w * self.scales[j], b * self.scales[j])
        return out  # type: ignore[return-value]

    def forward(self, c: torch.Tensor) -> torch.Tensor:
        """Flat parameters (B, n_params) in MLPLayout order."""
        parts = []
        for w, b in self.layers(c):
            parts += [w.reshape(w.shape[0], -1), b]
        return torch.cat(parts, dim=1)


def policy_forward(layout: MLPLayout, theta: torch.Tensor, states: torch.Tensor) -> torch.Tensor:
    """The tanh MLP policy of each row of ``theta`` (B, P) on ``states`` (S, obs): (B, S, act) in [-1, 1]."""
    x = states
    i = 0
    for (fi, fo), _ in layout.shapes:
        w = theta[:, i:i + fi * fo].reshape(-1, fi, fo)
        i += fi * fo
        b = theta[:, i:i + fo]
        i += fo
        x = torch.tanh(torch.matmul(x, w) + b[:, None, :])
    return x


class FingerprintEvaluator(nn.Module):
    """V_w(theta): probing actions of theta on learnable probing states -> 2x256 ReLU MLP -> return.

    :param layout: the evaluated policy's shapes
    :param n_probing: number of probing states (paper 200)
    :param hidden: hidden widths of the MLP U (paper 256, 256)
    :param act_scale: half-width of the action box (probing actions are in env units)
    :param act_centre: centre of the action box
    """

    def __init__(self, layout: MLPLayout, n_probing: int = 200, hidden: tuple[int, ...] = (256, 256),
                 act_scale: np.ndarray | None = None, act_centre: np.ndarray | None = None):
        super().__init__()
        self.layout = layout
        self.probing_states = nn.Parameter(torch.rand(n_probing, layout.obs_dim))
        self.net = relu_mlp([n_probing * layout.act_dim, *hidden, 1])
        scale = np.ones(layout.act_dim) if act_scale is None else np.asarray(act_scale)
        centre = np.zeros(layout.act_dim) if act_centre is None else np.asarray(act_centre)
        self.register_buffer("act_scale", torch.as_tensor(scale, dtype=torch.float32))
        self.register_buffer("act_centre", torch.as_tensor(centre, dtype=torch.float32))

    def probing_actions(self, theta: torch.Tensor) -> torch.Tensor:
        """(B, n_probing * act_dim), state-major, in env action units."""
        a = policy_forward(self.layout, theta, self.probing_states) * self.act_scale + self.act_centre
        return a.reshape(theta.shape[0], -1)

    def forward(self, theta: torch.Tensor) -> torch.Tensor:
        return self.net(self.probing_actions(theta)).squeeze(-1)
