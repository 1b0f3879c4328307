"""Commands that train networks past the by-hand step: ``trace`` (every parameter over many
epochs) and ``health`` (a deep network's activations and gradients from three starts)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from .output import Bar, say_written, write_run
from .params import chosen, kind_options, out_option
from .problems import MAX_SEED
from .types import Names, Whole

lab_option = click.option(
    "--lab", is_flag=True, help="Also the lab sheet: lab.pdf and lab-answers.pdf."
)


@click.command("trace")
@click.argument("file", type=click.File("rb"), required=False)
@click.option(
    "--seed",
    type=Whole(0, MAX_SEED),
    help="Generate the problem from this seed (as generate does); with FILE, the data set's seed.",
)
@kind_options
@click.option(
    "--data",
    type=click.Choice(["problem", "moons", "xor", "blobs"]),
    default="problem",
    show_default=True,
    help="Train on the problem's own X and Y (full batch: epoch 1 is the key's update), or on "
    "a data set drawn from the seed.",
)
@click.option("--epochs", type=Whole(1, 100_000), default=200, show_default=True)
@click.option(
    "--batch-size",
    type=Whole(1, 20_000),
    default=None,
    help="Mini-batches of N samples, shuffled each epoch (data sets) [full batch].",
)
@click.option(
    "--samples", type=Whole(4, 20_000), default=200, show_default=True, help="Data set size."
)
@out_option
@click.option("--no-plots", is_flag=True, help="Only the CSV and JSON files (no matplotlib).")
@lab_option
def trace_command(
    file: Any,
    seed: int | None,
    data: str,
    epochs: int,
    batch_size: int | None,
    samples: int,
    out: Path,
    no_plots: bool,
    lab: bool,
    **options: Any,
) -> None:
    """Train a problem's network for many epochs; every parameter's trajectory, and plots.

    The network is a generated problem (--seed and the options of generate) or your own
    document (FILE, as for solve). With --data problem it trains on the problem's X and Y with
    its lr and reduction, full batch, so epoch 1 is the answer key's W_new and b_new; moons,
    xor and blobs are 2-D data sets drawn from the seed (network 2,8,8,classes and mean
    reduction unless the options say otherwise). Writes OUT/trace.csv
    (epoch,name,row,col,value; epoch 0 = the given values, rows and columns from 1),
    OUT/loss.csv, OUT/trace.json, OUT/parameters.svg and .png, OUT/animation.html (a slider
    over the epochs) and, for 2-D classes, OUT/boundary.svg and .png.

    \b
    Examples:
      handcalc trace --seed 7 --out trace7/
      handcalc trace --seed 7 --transcendental exact --epochs 500 --out exact7/
      handcalc trace --seed 3 --data moons --epochs 300 --batch-size 32 --out moons/
      handcalc trace mine.json --out mine/ --lab
    """
    given = chosen(options)
    if file is None and seed is None:
        raise click.UsageError("give --seed N (a generated problem) or FILE (your own)")
    if file is not None and given:
        raise click.UsageError(
            f"--{next(iter(given)).replace('_', '-')}: FILE brings its own spec; "
            "leave the spec options out"
        )
    if not no_plots:
        from ..plots import require_matplotlib

        require_matplotlib()
    from ..tracing import trace

    with Bar("epochs", epochs) as bar:
        run = trace(
            file.read(10_000_001) if file is not None else None,
            seed=seed,
            data=data,
            epochs=epochs,
            batch_size=batch_size,
            samples=samples,
            progress=bar,
            **given,
        )
    say_written(write_run(run, out, plots=not no_plots, lab=lab), out)
    click.echo(
        f"loss {run.loss[0]:.4g} at epoch 0, {run.loss[-1]:.4g} at epoch {run.epochs}"
        + (f"; accuracy {run.accuracy[-1]:.0%}" if run.accuracy is not None else ""),
        err=True,
    )


@click.command("health")
@click.option("--steps", type=Whole(1, 100_000), default=1000, show_default=True)
@click.option(
    "--layers", type=Whole(1, 8), default=5, show_default=True, help="Hidden tanh layers."
)
@click.option("--units", type=Whole(2, 512), default=100, show_default=True, help="Per layer.")
@click.option("--lr", type=click.FloatRange(0, 10, min_open=True), default=0.1, show_default=True)
@click.option("--batch-size", type=Whole(2, 4096), default=32, show_default=True)
@click.option(
    "--data", type=click.Choice(["blobs", "moons", "xor"]), default="blobs", show_default=True
)
@click.option("--samples", type=Whole(4, 20_000), default=2000, show_default=True)
@click.option("--features", type=Whole(1, 256), default=16, show_default=True, help="Blobs.")
@click.option("--classes", type=Whole(2, 64), default=8, show_default=True, help="Blobs.")
@click.option("--seed", type=Whole(0, MAX_SEED), default=0, show_default=True)
@click.option(
    "--configurations",
    type=Names(),
    metavar="NAME,…",
    default="bad,kaiming,batchnorm",
    show_default=True,
    help="The starts to compare.",
)
@out_option
@click.option("--no-plots", is_flag=True, help="Only health.json (no matplotlib).")
@lab_option
def health_command(
    steps: int,
    layers: int,
    units: int,
    lr: float,
    batch_size: int,
    data: str,
    samples: int,
    features: int,
    classes: int,
    seed: int,
    configurations: tuple[str, ...],
    out: Path,
    no_plots: bool,
    lab: bool,
) -> None:
    """Diagnose a deep tanh MLP trained from a bad start, Kaiming's, and with BatchNorm.

    Trains the network (default: 5 tanh layers of 100 units, as in the makemore lecture) with
    plain SGD from each start, on a data set drawn from the seed, and writes OUT/health.json
    (per start and layer: saturation, act_mean, act_std, grad_mean, grad_std, grad_data_ratio,
    update_data per step; a summary in words) and the four figures OUT/activations,
    OUT/gradients, OUT/weights and OUT/updates as .svg and .png. Prints the summary.

    \b
    Examples:
      handcalc health --out health/
      handcalc health --steps 300 --layers 3 --units 50 --out small/ --lab
      handcalc health --configurations bad,kaiming --lr 0.05 --out two/
    """
    if not no_plots:
        from ..plots import require_matplotlib

        require_matplotlib()
    from ..diagnostics import health

    with Bar("steps", steps * max(1, len(configurations))) as bar:
        run = health(
            layers=layers,
            units=units,
            steps=steps,
            lr=lr,
            batch_size=batch_size,
            data=data,
            samples=samples,
            features=features,
            classes=classes,
            seed=seed,
            configurations=configurations,
            progress=bar,
        )
    written = write_run(run, out, plots=not no_plots, lab=lab)
    click.echo(run.summary_text())
    say_written(written, out)
