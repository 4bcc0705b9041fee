"""Ship a trained network into the package zoo with its model card and learning curve.

    python -m rlsuite.agents.alphazero.ship RUN_DIR --name go-5x5 --results results.json

writes `zoo/NAME.safetensors` (the run's latest network, or `--model FILE`), `zoo/NAME.json`
and `zoo/NAME.md` (the model card: board, komi, rules, network, training command, compute,
games, strength) and `zoo/NAME-curve.png` (evaluation and self-play curves from
`metrics.csv`). `--results` is a JSON object of measured strength (win rates against GnuGo,
the arena's Elo table) that goes into the card as given.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rlsuite.agents.alphazero.model import ZOO, save_model
from rlsuite.agents.alphazero.player import load_network

CURVES = ("eval/win_rate_vs_greedy", "eval/win_rate_vs_best", "eval/elo",
          "selfplay/black_win_rate", "losses/value", "losses/policy")


def read_metrics(run_dir: Path) -> dict[str, list[tuple[int, float]]]:
    """tag -> [(step, value)] from a run's metrics.csv."""
    series: dict[str, list[tuple[int, float]]] = defaultdict(list)
    with (run_dir / "metrics.csv").open() as f:
        for row in csv.DictReader(f):
            series[row["tag"]].append((int(row["step"]), float(row["value"])))
    return dict(series)


def plot_curves(run_dir: Path, png: Path, title: str) -> Path:
    """One panel per tag of `CURVES` against self-play positions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = read_metrics(run_dir)
    tags = [t for t in CURVES if t in series]
    fig, axes = plt.subplots(len(tags), 1, figsize=(7, 2.2 * len(tags)), sharex=True)
    for ax, tag in zip(list(getattr(axes, "flat", [axes])), tags, strict=True):
        steps, values = zip(*series[tag], strict=True)
        ax.plot(steps, values, marker="." if tag.startswith("eval/") else None)
        ax.set_ylabel(tag.split("/")[1], fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(title)
    fig.supxlabel("self-play positions")
    fig.tight_layout()
    fig.savefig(png, dpi=80)
    plt.close(fig)
    return png


def model_card(name: str, config: dict[str, Any], status: dict[str, Any],
               results: dict[str, Any], command: str) -> dict[str, Any]:
    """The card's facts as JSON (also rendered as markdown)."""
    return {
        "name": name,
        "spec": f"az:zoo/{name}",
        "board_size": config["board_size"],
        "komi": config["komi"],
        "rules": "Tromp-Taylor area scoring, positional superko, no suicide",
        "network": f"{config['blocks']} residual blocks x {config['channels']} channels, "
                   f"{config['history']} history boards per colour",
        "search_in_training": f"{config['search']} with {config['simulations']} simulations",
        "value_target": f"result after komi, mixed with the area margin "
                        f"(score_weight {config['score_weight']})",
        "training_command": command,
        "cpu_hours": round(float(status["wall_seconds"]) / 3600, 2),
        "self_play_games": int(status["episodes"]),
        "self_play_positions": int(status["env_steps"]),
        "gradient_steps": int(status["updates"]),
        "results": results,
    }


def card_markdown(card: dict[str, Any]) -> str:
    lines = [f"# {card['name']}: AlphaZero for Go {card['board_size']}x{card['board_size']}", ""]
    for key, value in card.items():
        if key not in ("name", "results"):
            lines.append(f"- **{key.replace('_', ' ')}**: {value}")
    lines += ["", "## Measured strength", "", "```json",
              json.dumps(card["results"], indent=2), "```", ""]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--name", required=True)
    parser.add_argument("--model", type=Path, default=None, help="a snapshot to ship instead")
    parser.add_argument("--results", type=Path, default=None)
    parser.add_argument("--command", default="", help="the training command, for the card")
    parser.add_argument("--zoo", type=Path, default=ZOO)
    args = parser.parse_args(argv)
    args.zoo.mkdir(parents=True, exist_ok=True)
    target = args.zoo / f"{args.name}.safetensors"
    if args.model is not None:
        load_network(args.model)  # refuse anything but a model file
        shutil.copyfile(args.model, target)
    else:
        save_model(target, *load_network(args.run))
    config = json.loads((args.run / "config.json").read_text())
    status = json.loads((args.run / "status.json").read_text())
    results = json.loads(args.results.read_text()) if args.results else {}
    card = model_card(args.name, config, status, results, args.command)
    (args.zoo / f"{args.name}.json").write_text(json.dumps(card, indent=2) + "\n")
    (args.zoo / f"{args.name}.md").write_text(card_markdown(card))
    plot_curves(args.run, args.zoo / f"{args.name}-curve.png", f"AlphaZero {args.name}")
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
