"""Hidden-test helpers of ``conv2d_training``: ``train_conv2d`` measured against gradient descent.

Every check looks at one aspect of training and takes every other aspect as
the student's own code does it, so that one slip costs one test cell:

* :func:`check_losses` (``test_losses``): the pair ``(net, losses)``, a list of
  ``num_epochs`` Python floats, and ``losses[0]`` computed *before* the first
  update (whether it is the sum or the mean is :func:`check_one_step`'s business);
* :func:`check_one_step` (``test_gradient_step``): one epoch moves weight and
  bias by ``-lr * gradient`` of the summed squared error, and the loss it
  records is that sum;
* :func:`check_epochs` (``test_epochs``): each epoch repeats the student's own
  one-epoch step from where the previous epoch left the parameters (gradients
  do not pile up), whatever the size of that step;
* :func:`follows_gradient_descent` (``test_recovers_kernel``): whether a short
  run is exact gradient descent, the condition under which a failed recovery
  is charged (otherwise one of the cells above already charges the slip).

The test cells pass the student's ``Conv2D`` and ``train_conv2d`` in: proxies
when graded, the real objects in a student's Jupyter. References are computed
here in float64 with ``torch.nn.functional.conv2d``, from the test's own
tensors, before ``train_conv2d`` runs; the student's code only ever gets copies.
:meth:`Reference.of` models the student's own layer from its outputs: that is
the student's account of its forward, checked to be affine, and it decides only
how Part B's cells share out one slip (``test_forward`` checks the forward itself).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from autograder.checks import expect, expect_close, plain, tolerance_for
from autograder.course import call_seeded, manual_seed, record_constructions, set_parameter, type_name

__all__ = [
    "Reference",
    "Run",
    "check_epochs",
    "check_losses",
    "check_one_step",
    "check_recovered",
    "example",
    "follows_gradient_descent",
    "train",
]


def describe(x: torch.Tensor) -> str:
    """``float32 (5, 6)``: a tensor's dtype and shape, for messages."""
    return f"{str(x.dtype).removeprefix('torch.')} {tuple(x.shape)}"


def _fmt(t: torch.Tensor) -> str:
    values = t.reshape(-1).tolist()
    shown = ", ".join(f"{v:.4g}" for v in values[:12])
    return f"[{shown}{', ...' if len(values) > 12 else ''}]"


def _float64(x: object, what: str) -> torch.Tensor:
    """A fresh float64 copy of a tensor that came from the student (subclasses are refused)."""
    shape, values = plain(x, what=what)
    return torch.tensor(values, dtype=torch.float64).reshape(shape)


def _close(a: torch.Tensor, b: torch.Tensor, rtol: float, atol: float) -> bool:
    return a.numel() == b.numel() and torch.allclose(a.reshape(-1), b.reshape(-1), rtol=rtol, atol=atol)


def example(seed: int, shape: tuple[int, int], kernel_size: tuple[int, int], bias: float):
    """``(X, K, Y)``: a random float32 input, a random kernel, and ``Y = corr2d(X, K) + bias``."""
    manual_seed(seed)
    X = torch.randn(shape)
    K = torch.randn(kernel_size)
    Y = F.conv2d(X[None, None], K[None, None])[0, 0] + bias
    return X, K, Y


class Reference:
    """Gradient descent on the summed squared error of a layer on fixed ``X`` and ``Y``, in float64.

    The layer trained is the student's own ``Conv2D`` (test_forward checks its
    forward, and a slip there is charged there only): :meth:`of` probes it with
    :func:`autograder.course.set_parameter`. A correct layer is affine in its
    parameters ``p = [*weight.reshape(-1), bias]``, so its output on ``X`` is
    ``offset + J @ p``; when the student's layer is not (or cannot be probed),
    the layer of the exercise (``F.conv2d`` plus the bias) is used instead.
    """

    def __init__(self, offset: torch.Tensor, J: torch.Tensor, Y: torch.Tensor, kernel_size: tuple[int, int]) -> None:
        self.offset = offset
        self.J = J
        self.y = Y.detach().to(torch.float64).reshape(-1)
        self.kernel_size = tuple(int(k) for k in kernel_size)
        self.outputs = self.y.numel()

    @classmethod
    def exercise(cls, X: torch.Tensor, Y: torch.Tensor, kernel_size: tuple[int, int]) -> Reference:
        """The layer the exercise asks for: ``F.conv2d(X, weight) + bias``."""
        n = math.prod(kernel_size)
        X64 = X.detach().to(torch.float64)[None, None]
        columns = [
            F.conv2d(X64, e.reshape(1, 1, *kernel_size))[0, 0].reshape(-1) for e in torch.eye(n, dtype=torch.float64)
        ]
        columns.append(torch.ones_like(columns[0]))
        return cls(torch.zeros_like(columns[0]), torch.stack(columns, dim=1), Y, kernel_size)

    @classmethod
    def of(cls, Conv2D: Any, X: torch.Tensor, Y: torch.Tensor, kernel_size: tuple[int, int], *, seed: int) -> Reference:
        """The student's layer on ``X``, probed; the exercise's layer when it is not affine in its parameters."""
        fallback = cls.exercise(X, Y, kernel_size)
        n = math.prod(kernel_size)
        try:
            probe = call_seeded(seed, Conv2D, kernel_size)

            def output(p: torch.Tensor) -> torch.Tensor:
                set_parameter(probe, "weight", p[:n].reshape(kernel_size).to(torch.float32))
                set_parameter(probe, "bias", p[n].to(torch.float32))
                values = _float64(probe(X.clone()), "Conv2D(X)").reshape(-1)
                if values.numel() != fallback.outputs:
                    raise ValueError("the output has the wrong number of values")
                return values

            offset = output(torch.zeros(n + 1, dtype=torch.float64))
            J = torch.stack([output(e) - offset for e in torch.eye(n + 1, dtype=torch.float64)], dim=1)
            generator = torch.Generator().manual_seed(seed)
            p = torch.randn(n + 1, generator=generator, dtype=torch.float64).to(torch.float32).to(torch.float64)
            affine = _close(output(p), offset + J @ p, rtol=1e-4, atol=1e-4)
        except Exception:  # noqa: BLE001  (whatever the student's layer does, the exercise's layer is the fallback)
            return fallback
        return cls(offset, J, Y, kernel_size) if affine else fallback

    def _params(self, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        return torch.cat([weight.reshape(-1), bias.reshape(-1)])

    def _split(self, p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return p[:-1].reshape(self.kernel_size), p[-1:]

    def loss(self, weight: torch.Tensor, bias: torch.Tensor) -> float:
        """The summed squared error with these parameters."""
        r = self.offset + self.J @ self._params(weight, bias) - self.y
        return (r @ r).item()

    def gradients(self, weight: torch.Tensor, bias: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The gradients of the summed squared error with respect to weight and bias."""
        r = self.offset + self.J @ self._params(weight, bias) - self.y
        return self._split(2 * self.J.T @ r)

    def descend(
        self,
        weight: torch.Tensor,
        bias: torch.Tensor,
        steps: int,
        scale_w: float,
        scale_b: float,
        *,
        accumulate: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The parameters after ``steps`` steps ``p -= scale * gradient``.

        With ``accumulate``, each step uses the sum of the gradients of all
        steps so far (what a loop without ``zero_grad()`` does).
        """
        total_w, total_b = torch.zeros_like(weight), torch.zeros_like(bias)
        for _ in range(steps):
            grad_w, grad_b = self.gradients(weight, bias)
            total_w = total_w + grad_w if accumulate else grad_w
            total_b = total_b + grad_b if accumulate else grad_b
            weight, bias = weight - scale_w * total_w, bias - scale_b * total_b
        return weight, bias

    def fit(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The parameters with the least summed squared error (what training converges to)."""
        p = torch.linalg.lstsq(self.J, (self.y - self.offset)[:, None]).solution[:, 0]
        return self._split(p)


@dataclass
class Run:
    """One recorded call of ``train_conv2d``."""

    call: str  # the call with its inputs' dtypes and shapes, for messages
    num_epochs: int
    result: Any = None
    module: Any = None
    losses: Any = None
    problem: str = ""  # why the run cannot be compared with gradient descent ("" when it can)
    problem_tag: str = ""
    start: tuple[torch.Tensor, torch.Tensor] | None = None  # float64 weight (kh, kw) and bias (1,) after __init__
    end: tuple[torch.Tensor, torch.Tensor] | None = None  # the same, as train_conv2d returned them
    dtype: torch.dtype = torch.float32  # the dtype of the trained weight
    steps: int = 0  # the epochs it ran: len(losses) (whether that is num_epochs is test_losses' business)

    def tolerance(self) -> tuple[float, float]:
        """``(rtol, atol)`` fit for the dtype the student trained in."""
        return tolerance_for(torch.empty((), dtype=self.dtype))

    def loss_values(self) -> list[float] | None:
        """The losses as Python floats (numbers or one-element tensors), or None when they are not."""
        if not isinstance(self.losses, (list, tuple)):
            return None
        values = []
        for loss in self.losses:
            if type(loss) in (float, int):
                values.append(float(loss))
            elif isinstance(loss, torch.Tensor) and loss.numel() == 1:
                values.append(plain(loss, what=f"{self.call}: a loss")[1][0])
            else:
                return None
        return values


def _kind(value: Any) -> str:
    name = type_name(value).rsplit(".", 1)[-1]
    if isinstance(value, (list, tuple)):
        return f"a {name} of {len(value)} item{'s' if len(value) != 1 else ''}"
    return f"a {name}"


def train(
    Conv2D: Any,
    train_conv2d: Any,
    X: torch.Tensor,
    Y: torch.Tensor,
    kernel_size: tuple[int, int],
    lr: float,
    num_epochs: int,
    *,
    seed: int,
) -> Run:
    """Call ``train_conv2d(X, Y, kernel_size, lr, num_epochs)`` and record where its Conv2D started.

    ``seed`` seeds the student's process first, so that its Conv2D starts
    from the same values at every grading. Never raises for a wrong answer:
    what makes the run unusable is in ``Run.problem``.
    """
    call = (
        f"train_conv2d(X, Y, {tuple(kernel_size)}, lr={lr:g}, num_epochs={num_epochs}) "
        f"with X {describe(X)}, Y {describe(Y)}"
    )
    run = Run(call, num_epochs)
    call_seeded(seed, Conv2D, kernel_size)  # leaves the student's random generator in a known state
    # copies: the test's X and Y, which its references are made from, never reach the student's code
    result, built = record_constructions(Conv2D, train_conv2d, X.clone(), Y.clone(), kernel_size, lr, num_epochs)
    run.result = result
    if not isinstance(result, (tuple, list)) or len(result) != 2:
        run.problem = f"{call} returned {_kind(result)}; expected the pair (net, losses)"
        return run
    run.module, run.losses = result
    sized = isinstance(run.losses, (list, tuple)) or (isinstance(run.losses, torch.Tensor) and run.losses.dim() == 1)
    run.steps = len(run.losses) if sized and len(run.losses) <= 1000 else num_epochs
    if len(built) != 1:
        run.problem = (
            f"{call} built {len(built)} Conv2D modules; expected it to build one fresh "
            "Conv2D(kernel_size) and to train and return that one"
        )
        run.problem_tag = "not-fresh-module"
        return run
    module, start = built[0]
    if module is not run.module:
        run.problem = f"{call} returned {_kind(run.module)}, not the Conv2D it built; return the module you trained"
        run.problem_tag = "not-fresh-module"
        return run
    if "weight" not in start or "bias" not in start:
        run.problem = (
            f"{call}: the Conv2D it built registers the parameters {sorted(start)}; "
            "expected 'bias' and 'weight' (see test_parameters)"
        )
        return run
    weight0 = _float64(start["weight"], f"{call}: the initial weight")
    bias0 = _float64(start["bias"], f"{call}: the initial bias")
    weight, bias = run.module.weight, run.module.bias
    dtype_source = weight
    weight = _float64(weight, f"{call}: the trained weight")
    bias = _float64(bias, f"{call}: the trained bias")
    size = math.prod(kernel_size)
    for name, values, count in (
        ("weight", weight0, size),
        ("bias", bias0, 1),
        ("weight", weight, size),
        ("bias", bias, 1),
    ):
        if values.numel() != count:
            run.problem = (
                f"{call}: the Conv2D's {name} has {values.numel()} values, expected {count} (see test_parameters)"
            )
            return run
    run.start = (weight0.reshape(kernel_size), bias0.reshape(1))
    run.end = (weight.reshape(kernel_size), bias.reshape(1))
    run.dtype = dtype_source.dtype
    return run


def _matches(value: float, loss: float, outputs: int, rtol: float) -> bool:
    """``value`` is ``loss``, or ``loss`` averaged over the outputs."""
    return any(math.isclose(value, target, rel_tol=rtol, abs_tol=1e-6) for target in (loss, loss / outputs))


def check_losses(run: Run, ref: Reference) -> None:
    """``test_losses``: the pair, one Python float per epoch, and the first loss taken before the update."""
    expect(
        type(run.result) is tuple and len(run.result) == 2,
        f"{run.call}: expected the tuple (net, losses), got {_kind(run.result)}; end with: return net, losses",
    )
    losses = run.losses
    expect(type(losses) is list, f"{run.call}: expected the losses as a list, got {_kind(losses)}")
    expect(
        len(losses) == run.num_epochs,
        f"{run.call}: expected {run.num_epochs} loss{'es' if run.num_epochs != 1 else ''} (one per epoch), got {len(losses)}; "
        "run num_epochs epochs, the number passed in",
        tag="ignores-num-epochs",
    )
    kinds = sorted({type_name(loss).rsplit(".", 1)[-1] for loss in losses})
    expect(
        all(type(loss) is float for loss in losses),
        f"{run.call}: expected every loss to be a Python float, got {kinds}; record loss.item()",
        tag="tensor-losses",
    )
    expect(not run.problem, run.problem, tag=run.problem_tag)
    rtol = max(1e-4, run.tolerance()[0])
    before = ref.loss(*run.start)
    if _matches(losses[0], before, ref.outputs, rtol):
        return
    after = ref.loss(*run.end)
    if _matches(losses[0] if run.steps == 1 else losses[-1], after, ref.outputs, rtol):
        expect(
            False,
            f"{run.call}: the losses are computed after each update (losses[0] = {losses[0]:.6g}; "
            f"the loss at the initial parameters is {before:.6g}); record the loss of the forward pass "
            "that you backpropagate, before the update",
            tag="loss-after-update",
        )
    expect(
        False,
        f"{run.call}: expected losses[0] = {before:.6g}, the summed squared error at the parameters Conv2D "
        f"started from, got {losses[0]:.6g}",
    )


def _step_diagnosis(name: str, moved: torch.Tensor, step: torch.Tensor, lr: float, outputs: int) -> tuple[str, str]:
    """Words (and a tag) for a parameter that moved by ``moved`` where ``step`` (= -lr * gradient) was expected."""
    atol = 1e-3 * step.abs().max().item() + 1e-7
    candidates = [
        (
            0.0,
            f"the {name} did not change: update the parameter itself, after backward() "
            "(param -= lr * param.grad under torch.no_grad(), or optimizer.step())",
            "parameters-not-updated",
        ),
        (-1.0, f"the {name} moved up the gradient (+lr * gradient): subtract lr * gradient", "gradient-ascent"),
        (
            1.0 / outputs,
            f"the {name} moved by 1/{outputs} of -lr * gradient: that is the gradient of the MEAN squared "
            f"error over the {outputs} outputs (nn.MSELoss, F.mse_loss or .mean()); "
            "use the sum, ((net(X) - Y) ** 2).sum()",
            "mean-not-sum",
        ),
    ]
    if not math.isclose(lr, 1e-2):
        candidates.append(
            (
                1e-2 / lr,
                f"the {name} took the step of lr=0.01, not of the lr={lr:g} passed in: use the argument lr",
                "ignores-lr",
            )
        )
    for ratio, words, tag in candidates:
        if _close(moved, ratio * step, rtol=1e-3, atol=atol):
            return f"; {words}", tag
    scale = (moved * step).sum().item() / max((step * step).sum().item(), 1e-300)
    return f"; it moved by about {scale:.3g} times -lr * gradient", ""


def check_one_step(run: Run, ref: Reference, lr: float) -> None:
    """``test_gradient_step``: one epoch is one step of size ``lr`` on the summed squared error."""
    expect(not run.problem, run.problem, tag=run.problem_tag)
    rtol, atol = run.tolerance()
    (weight0, bias0), (weight, bias) = run.start, run.end
    # len(losses) epochs were run: a wrong count is charged by test_losses, not here
    weight1, bias1 = ref.descend(weight0, bias0, run.steps, lr, lr)
    grad_w, grad_b = ref.gradients(weight0, bias0)
    if not _close(weight, weight1, rtol, atol):
        words, tag = "", ""
        if run.steps == 1:
            words, tag = _step_diagnosis("weight", weight - weight0, -lr * grad_w, lr, ref.outputs)
        expect(
            False,
            f"{run.call}: expected the weight {_fmt(weight1)} after one step of -lr * gradient from {_fmt(weight0)}, "
            f"got {_fmt(weight)}{words}",
            tag=tag,
        )
    if not _close(bias, bias1, rtol, atol):
        if _close(bias, bias0, rtol, atol):
            words, tag = "; the bias did not change: update the bias too, bias -= lr * bias.grad", "bias-not-trained"
        elif run.steps == 1:
            words, tag = _step_diagnosis("bias", bias - bias0, -lr * grad_b, lr, ref.outputs)
        else:
            words, tag = "", ""
        expect(
            False,
            f"{run.call}: expected the bias {bias1.item():.6g} after one step from {bias0.item():.6g} "
            f"(its gradient is {grad_b.item():.4g}), got {bias.item():.6g}{words}",
            tag=tag,
        )
    losses = run.loss_values()
    if losses:
        rtol = max(1e-4, rtol)
        sums = (ref.loss(weight0, bias0), ref.loss(weight, bias))
        is_sum = any(math.isclose(losses[0], s, rel_tol=rtol, abs_tol=1e-6) for s in sums)
        is_mean = any(math.isclose(losses[0] * ref.outputs, s, rel_tol=rtol, abs_tol=1e-6) for s in sums)
        expect(
            is_sum or not is_mean,
            f"{run.call}: losses[0] = {losses[0]:.6g} is the mean squared error (the sum divided by "
            f"{ref.outputs}); record the summed squared error",
            tag="mean-not-sum",
        )


def _own_step(one_epoch: Run, ref: Reference, lr: float) -> tuple[float, float, str]:
    """The step the student's code takes in one epoch, as multiples of -gradient for weight and bias.

    Falls back to ``lr`` when the one-epoch run cannot tell (it ran another
    number of epochs, or its step is not a multiple of the gradient).
    """
    exact = (lr, lr, "gradient descent with step size lr")
    if one_epoch.problem or one_epoch.steps != 1:
        return exact
    (weight0, bias0), (weight, bias) = one_epoch.start, one_epoch.end
    grad_w, grad_b = ref.gradients(weight0, bias0)
    _, atol = one_epoch.tolerance()
    scales = []
    for moved, grad in ((weight - weight0, grad_w), (bias - bias0, grad_b)):
        scale = -(moved * grad).sum().item() / max((grad * grad).sum().item(), 1e-300)
        if not _close(moved, -scale * grad, rtol=1e-3, atol=atol):
            return exact
        scales.append(scale)
    return scales[0], scales[1], "the step your code takes in one epoch (test_gradient_step checks its size)"


def check_epochs(one_epoch: Run, run: Run, ref: Reference, lr: float) -> None:
    """``test_epochs``: each epoch repeats the one-epoch step from where the previous epoch left off.

    ``one_epoch`` is a call with ``num_epochs=1`` on the same data; its step
    (right or wrong, that is :func:`check_one_step`'s business) is the step
    expected in every epoch of ``run``.
    """
    expect(not run.problem, run.problem, tag=run.problem_tag)
    scale_w, scale_b, how = _own_step(one_epoch, ref, lr)
    rtol, atol = run.tolerance()
    (weight0, bias0), (weight, bias) = run.start, run.end
    weight_n, bias_n = ref.descend(weight0, bias0, run.steps, scale_w, scale_b)
    if _close(weight, weight_n, rtol, atol) and _close(bias, bias_n, rtol, atol):
        return
    piled_w, piled_b = ref.descend(weight0, bias0, run.steps, scale_w, scale_b, accumulate=True)
    expect(
        not (_close(weight, piled_w, rtol, atol) and _close(bias, piled_b, rtol, atol)),
        f"{run.call}: after {run.steps} epochs the weight is {_fmt(weight)}, where the gradients of all epochs "
        f"added up lead, not {_fmt(weight_n)}; reset the gradients every epoch "
        "(net.zero_grad() or optimizer.zero_grad() before backward()), otherwise they pile up",
        tag="gradients-accumulate",
    )
    expect(
        False,
        f"{run.call}: expected the weight {_fmt(weight_n)} and the bias {bias_n.item():.6g} after {run.steps} "
        f"epochs of {how}, each from where the previous epoch left the parameters; "
        f"got the weight {_fmt(weight)} and the bias {bias.item():.6g}",
    )


def follows_gradient_descent(run: Run, ref: Reference, lr: float) -> bool:
    """Whether ``run`` took exactly ``num_epochs`` steps of gradient descent with step size ``lr``."""
    if run.problem or run.steps != run.num_epochs:
        return False
    rtol, atol = run.tolerance()
    weight_n, bias_n = ref.descend(*run.start, run.steps, lr, lr)
    return _close(run.end[0], weight_n, rtol, atol) and _close(run.end[1], bias_n, rtol, atol)


def check_recovered(run: Run, ref: Reference, *, atol: float) -> None:
    """``test_recovers_kernel``: training ends where the layer reproduces the data best.

    For a correct layer trained on ``corr2d(X, K) + b`` that is ``K`` and ``b``.
    """
    expect(not run.problem, run.problem, tag=run.problem_tag)
    weight, bias = run.end
    best_weight, best_bias = ref.fit()
    expect_close(
        bias,
        best_bias,
        what=f"{run.call}: the learned bias",
        rtol=0,
        atol=atol,
        hint="the data were made with this bias",
    )
    expect_close(
        weight,
        best_weight,
        what=f"{run.call}: the learned weight",
        rtol=0,
        atol=atol,
        hint="the data were made with this kernel",
    )
