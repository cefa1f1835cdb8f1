"""A network's architecture and parameters, stacked for K networks trained side by side.

Each network's parameters are one flat vector: for every layer, its weight matrix (source-major, so a
layer is ``a @ W + b``) followed by its biases. K networks make a (K, P) array, so a training update is
a handful of whole-array operations however deep the network is, and every layer's ``W`` and ``b`` are
views into it.

Node and link ids are the Playground's: input nodes are feature names, the others ``"1"``, ``"2"``, ...
layer by layer, links ``"<source>-<dest>"``; weights are drawn in link order (layer, dest, source).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

BIAS_INIT = 0.1


@dataclass(frozen=True)
class Architecture:
    """Input feature names (network order), hidden layer sizes and output nodes (one in the Playground;
    one per class for a head such as softmax)."""

    inputs: tuple[str, ...]
    hidden: tuple[int, ...]
    outputs: int = 1

    @cached_property
    def sizes(self) -> tuple[int, ...]:
        return (len(self.inputs), *self.hidden, self.outputs)

    @property
    def num_layers(self) -> int:
        """Layers with weights: the hidden layers and the output layer."""
        return len(self.sizes) - 1

    @cached_property
    def node_ids(self) -> tuple[tuple[str, ...], ...]:
        ids: list[tuple[str, ...]] = [tuple(self.inputs)]
        counter = 1
        for size in self.sizes[1:]:
            ids.append(tuple(str(counter + i) for i in range(size)))
            counter += size
        return tuple(ids)

    @cached_property
    def link_ids(self) -> tuple[str, ...]:
        """Every link in the Playground's initialisation order."""
        ids = self.node_ids
        return tuple(
            f"{src}-{dst}" for layer in range(1, len(ids)) for dst in ids[layer] for src in ids[layer - 1]
        )

    @cached_property
    def num_weights(self) -> int:
        return sum(a * b for a, b in zip(self.sizes, self.sizes[1:]))

    @cached_property
    def num_parameters(self) -> int:
        return self.num_weights + sum(self.sizes[1:])

    @cached_property
    def offsets(self) -> tuple[tuple[int, int], ...]:
        """(weights start, biases start) of each layer 1..L in the flat vector (index 0 unused)."""
        out = [(0, 0)]
        pos = 0
        for n_in, n_out in zip(self.sizes, self.sizes[1:]):
            out.append((pos, pos + n_in * n_out))
            pos += n_in * n_out + n_out
        return tuple(out)

    @cached_property
    def weight_mask(self) -> np.ndarray:
        """True where the flat vector holds a weight (False: a bias)."""
        mask = np.zeros(self.num_parameters, dtype=bool)
        for layer in range(1, self.num_layers + 1):
            start, bias = self.offsets[layer]
            mask[start:bias] = True
        return mask

    @cached_property
    def link_index(self) -> dict[str, int]:
        """Flat position of every link's weight."""
        ids = self.node_ids
        index = {}
        for layer in range(1, self.num_layers + 1):
            start, _ = self.offsets[layer]
            n_out = self.sizes[layer]
            for i, dst in enumerate(ids[layer]):
                for j, src in enumerate(ids[layer - 1]):
                    index[f"{src}-{dst}"] = start + j * n_out + i
        return index

    @cached_property
    def bias_index(self) -> dict[str, int]:
        index = {}
        for layer in range(1, self.num_layers + 1):
            _, bias = self.offsets[layer]
            for i, node in enumerate(self.node_ids[layer]):
                index[node] = bias + i
        return index

    @cached_property
    def link_order(self) -> np.ndarray:
        """Flat positions of the weights in link (initialisation) order."""
        return np.array([self.link_index[link] for link in self.link_ids], dtype=np.intp)


class Parameters:
    """Weights, biases, dead-link flags and optimizer memory of K networks with one architecture.

    ``flat`` is (K, P); :meth:`weight` and :meth:`bias` give per-layer views. ``dead`` marks links that
    L1 froze: they still forward their weight, but never learn again until the network is rebuilt.
    An optimizer's memory belongs to the network it trains (it is kept when the data is regenerated
    and cleared when the network is rebuilt): :meth:`moments` per parameter, ``updates`` the number
    of updates each network has had.
    """

    def __init__(self, arch: Architecture, k: int) -> None:
        self.arch = arch
        self.k = k
        self.flat = np.zeros((k, arch.num_parameters))
        self.dead = np.zeros((k, arch.num_parameters), dtype=bool)
        self.updates = np.zeros(k)
        self._moments = np.zeros((0, k, arch.num_parameters))

    def moments(self, slots: int) -> np.ndarray:
        """(slots, K, P): an optimizer's memory per parameter, zero until it trains (a view: write
        into it)."""
        if self._moments.shape[0] < slots:
            grown = np.zeros((slots, self.k, self.arch.num_parameters))
            grown[: self._moments.shape[0]] = self._moments
            self._moments = grown
        return self._moments[:slots]

    def weight(self, layer: int, flat: np.ndarray | None = None) -> np.ndarray:
        """(K, n_in, n_out) view of ``layer``'s weights in ``flat`` (default: the parameters)."""
        flat = self.flat if flat is None else flat
        start, bias = self.arch.offsets[layer]
        return flat[:, start:bias].reshape(len(flat), self.arch.sizes[layer - 1], self.arch.sizes[layer])

    def bias(self, layer: int, flat: np.ndarray | None = None) -> np.ndarray:
        """(K, n_out) view of ``layer``'s biases in ``flat``."""
        flat = self.flat if flat is None else flat
        _, bias = self.arch.offsets[layer]
        return flat[:, bias : bias + self.arch.sizes[layer]]

    def augmented(self, layer: int, flat: np.ndarray | None = None) -> np.ndarray:
        """(K, n_in + 1, n_out) view of ``layer``'s weights with its biases as the last row."""
        flat = self.flat if flat is None else flat
        start, bias = self.arch.offsets[layer]
        n_in, n_out = self.arch.sizes[layer - 1], self.arch.sizes[layer]
        return flat[:, start : bias + n_out].reshape(len(flat), n_in + 1, n_out)

    def initialise(self, member: int, draws: np.ndarray, init_zero: bool = False) -> None:
        """Set a member's weights from ``num_weights`` stream draws (``w = draw - 0.5``), biases 0.1.

        ``init_zero`` gives zero weights and biases; the draws are still consumed, as in the original.
        """
        arch = self.arch
        if len(draws) != arch.num_weights:
            raise ValueError(f"need {arch.num_weights} draws, got {len(draws)}")
        row = self.flat[member]
        self.dead[member] = False
        self.updates[member] = 0.0
        self._moments[:, member] = 0.0
        if init_zero:
            row.fill(0.0)
            return
        row[arch.link_order] = draws - 0.5
        row[~arch.weight_mask] = BIAS_INIT

    # -- by id ---------------------------------------------------------------------------------------

    def weights(self, member: int = 0) -> dict[str, float]:
        row = self.flat[member]
        return {link: float(row[i]) for link, i in self.arch.link_index.items()}

    def biases(self, member: int = 0) -> dict[str, float]:
        row = self.flat[member]
        return {node: float(row[i]) for node, i in self.arch.bias_index.items()}

    def dead_links(self, member: int = 0) -> dict[str, bool]:
        row = self.dead[member]
        return {link: bool(row[i]) for link, i in self.arch.link_index.items()}

    def weight_vector(self, member: int = 0) -> np.ndarray:
        """All weights of a member, in link order."""
        return self.flat[member, self.arch.link_order]

    def set_weight(self, link: str, value: float, member: int = 0) -> None:
        """Edit one weight (a dead link forwards the new value but still never learns)."""
        try:
            self.flat[member, self.arch.link_index[link]] = value
        except KeyError:
            raise KeyError(f"no link {link!r}; links: {', '.join(self.arch.link_index)}") from None

    def set_bias(self, node: str, value: float, member: int = 0) -> None:
        try:
            self.flat[member, self.arch.bias_index[node]] = value
        except KeyError:
            raise KeyError(f"no node {node!r} with a bias; nodes: {', '.join(self.arch.bias_index)}") from None
