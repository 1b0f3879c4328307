"""The sentences at the top of a batchnorm sheet: the conventions in force and its question."""

from __future__ import annotations

from typing import Any

from ...notation import printed, subscript


def instructions(problem: Any) -> tuple[str, ...]:
    """The conventions in force: the MLP's for the head, the loss and the update, BN's own for
    the rest, and the question to confirm ``Ztest = Zf``."""
    from ...conventions import instructions as mlp_instructions

    spec = problem.spec
    n0, _, _ = spec.sizes
    batch = spec.batch
    s = subscript
    hidden = {
        "relu": "ReLU",
        "leaky_relu": f"leaky ReLU (slope {printed(spec.slope)})",
        "identity": "the identity of",
        "sigmoid": "σ",
        "tanh": "tanh",
    }[spec.activation]
    eps = printed(spec.eps)
    momentum = printed(spec.momentum)
    network = (
        f"Samples are columns: X is {n0} × {batch}; {s('Z1')} = {s('W1')}·X + {s('b1')}; batch "
        f"normalisation in training mode normalises each row (unit) of {s('Z1')} over the batch: "
        f"{s('mu1')} its mean and {s('var1')} its biased variance (1/B)·Σ({s('Z1')} − "
        f"{s('mu1')})², divided by B = {batch}, not B − 1, as PyTorch does in training mode; "
        f"{s('Zhat1')} = ({s('Z1')} − {s('mu1')})/√({s('var1')} + eps), {s('BN1')} = "
        f"{s('gamma1')}∘{s('Zhat1')} + {s('beta1')}, {s('A1')} = {hidden}({s('BN1')}); "
        f"{s('Z2')} = {s('W2')}·{s('A1')} + {s('b2')}."
    )
    if spec.eps:
        roots = (
            f"eps = {eps} (PyTorch's kind of value): the batch's roots √(var + eps) are "
            f"irrational, so those cells are exact expressions (write decimals)."
        )
    else:
        roots = "eps = 0 (hand mode): every variance here is a perfect square, so every √ is exact."
    backward_text = (
        f"Backward through BN: {s('dBN1')} = {s('dA1')}∘f′, {s('dgamma1')} = "
        f"Σ_columns {s('dBN1')}∘{s('Zhat1')}, {s('dbeta1')} = Σ_columns {s('dBN1')}, "
        f"{s('dZhat1')} = {s('dBN1')}∘{s('gamma1')}; then {s('dvar1')}, {s('dmu1')} and "
        f"{s('dZ1')}, which adds the three paths from {s('Z1')} (through {s('Zhat1')}, "
        f"{s('var1')} and {s('mu1')}); {s('db1')} = 0: BN subtracts each row's mean, so a bias "
        f"added before it is taken away again and cannot change the loss."
    )
    statistics = (
        f"Running statistics (PyTorch's momentum, {momentum}): running_mean1_new = (1 − "
        f"momentum)·running_mean1 + momentum·{s('mu1')}; running_var1_new the same with the "
        f"unbiased variance B/(B − 1)·{s('var1')}. Eval mode (inference) normalises with the "
        f"running statistics, training mode with the batch's."
    )
    fold = (
        f"Folding and the affine form use the given running statistics (the layer in eval mode): "
        f"{s('Wf1')} = diag({s('gamma1')}/√(running_var1 + eps))·{s('W1')}, {s('bf1')} = "
        f"{s('gamma1')}∘({s('b1')} − running_mean1)/√(running_var1 + eps) + {s('beta1')}; "
        f"{s('gammap1')} = {s('gamma1')}/√(running_var1 + eps), {s('betap1')} = {s('beta1')} − "
        f"running_mean1∘{s('gammap1')}. Question: compute Ztest (Linear 1, then BN in eval mode, "
        f"on the new input Xtest) and Zf = {s('Wf1')}·Xtest + {s('bf1')}, and confirm that they "
        f"are equal."
    )
    update = (
        f"{s('gamma1')} and {s('beta1')} are updated like the weights: gamma new = gamma − "
        f"lr·dgamma, beta new = beta − lr·dbeta."
    )
    mlp = [
        line
        for line in mlp_instructions(problem)
        if not line.startswith(("Samples are columns", "Backward:"))
    ]
    return (network, roots, *mlp, backward_text, update, statistics, fold)
