"""Checkpoints: atomic saves, refusal of foreign or corrupt files, exact resume."""

import json
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch

from rlsuite import checkpoint
from rlsuite.checkpoint import CheckpointError
from rlsuite.replay import ReplayBuffer

SPEC = {"x": ((2,), np.float32), "y": ((), np.float32)}


class _Run:
    """A tiny learner: a net, Adam, a prioritized buffer and the RNGs that drive it."""

    def __init__(self, seed: int) -> None:
        torch.manual_seed(seed)
        self.net = torch.nn.Linear(2, 1)
        self.opt = torch.optim.Adam(self.net.parameters(), lr=1e-2)
        self.rng = np.random.default_rng(seed)
        self.buffer = ReplayBuffer(SPEC, capacity=64, prioritized=True)
        self.updates = 0

    def step(self) -> dict[str, np.ndarray]:
        x = self.rng.normal(size=(4, 2)).astype(np.float32)
        self.buffer.add({"x": x, "y": x.sum(1) + torch.randn(4).numpy()})
        sample = self.buffer.sample(8, self.rng)
        assert sample.weight is not None
        batch = {**sample.fields, "index": sample.index, "weight": sample.weight}
        pred = self.net(torch.as_tensor(batch["x"])).squeeze(1)
        loss = ((pred - torch.as_tensor(batch["y"])) ** 2 * torch.as_tensor(batch["weight"])).mean()
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        self.buffer.update_priorities(batch["index"], (pred - torch.as_tensor(batch["y"])).detach())
        self.updates += 1
        return batch

    def save(self, root: Path) -> Path:
        return checkpoint.save(
            root,
            step=self.updates,
            modules={"net": self.net},
            optimizers={"opt": self.opt},
            state={
                "updates": self.updates,
                "replay": self.buffer.state_dict(),
                "rng": checkpoint.rng_state(self.rng),
            },
        )

    def restore(self, path: Path) -> None:
        ckpt = checkpoint.load(path, modules={"net": self.net}, optimizers={"opt": self.opt})
        self.updates = ckpt.state["updates"]
        self.buffer.load_state_dict(ckpt.state["replay"])
        checkpoint.restore_rng(ckpt.state["rng"], self.rng)


def test_resume_draws_the_same_next_batch_as_an_uninterrupted_run(tmp_path: Path) -> None:
    straight = _Run(seed=3)
    for _ in range(10):
        straight.step()
    expected = [straight.step() for _ in range(3)]

    first = _Run(seed=3)
    for _ in range(10):
        first.step()
    first.save(tmp_path)
    del first  # the "crash"
    resumed = _Run(seed=99)  # different seed: everything must come from the checkpoint
    resumed.restore(tmp_path)
    assert resumed.updates == 10
    assert resumed.opt.state_dict()["state"][0]["step"] == 10
    for want in expected:
        got = resumed.step()
        for key in want:
            np.testing.assert_array_equal(got[key], want[key])
    for p, q in zip(resumed.net.parameters(), straight.net.parameters(), strict=True):
        torch.testing.assert_close(p, q)


def test_interrupted_save_leaves_previous_checkpoint_loadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = _Run(seed=0)
    run.step()
    good = run.save(tmp_path)
    run.step()

    def crash(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt("power cut mid-write")

    monkeypatch.setattr(checkpoint, "_write_text_atomic", crash)
    with pytest.raises(KeyboardInterrupt):
        run.save(tmp_path)
    monkeypatch.undo()
    assert checkpoint.latest(tmp_path) == good
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest", good.name]  # no temp debris
    restored = _Run(seed=1)
    restored.restore(tmp_path)
    assert restored.updates == 1


def test_keeps_last_k_and_latest_points_at_newest(tmp_path: Path) -> None:
    net = torch.nn.Linear(1, 1)
    for step in (1, 2, 3, 4):
        checkpoint.save(tmp_path, step=step, modules={"net": net}, keep=2)
    assert sorted(p.name for p in tmp_path.glob("step_*")) == [
        "step_000000000003",
        "step_000000000004",
    ]
    assert checkpoint.load(tmp_path).step == 4
    assert checkpoint.load(tmp_path.parent / tmp_path.name / "step_000000000003").step == 3


def test_pickle_is_refused_and_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"

    class Exploit:
        def __reduce__(self):
            return (marker.write_text, ("ran",))

    bad = tmp_path / "model.pt"
    bad.write_bytes(pickle.dumps(Exploit()))
    with pytest.raises(CheckpointError, match="refuses to load pickles"):
        checkpoint.load(bad)
    torch.save({"w": torch.zeros(1)}, tmp_path / "torch.pt")
    with pytest.raises(CheckpointError, match="pickle"):
        checkpoint.load(tmp_path / "torch.pt")
    assert not marker.exists()


def test_truncated_and_foreign_checkpoints_are_refused(tmp_path: Path) -> None:
    net = torch.nn.Linear(4, 4)
    path = checkpoint.save(tmp_path / "a", step=1, modules={"net": net})
    tensors = path / checkpoint.TENSORS
    tensors.write_bytes(tensors.read_bytes()[:40])
    with pytest.raises(CheckpointError, match="truncated or corrupt"):
        checkpoint.load(path, modules={"net": net})

    path = checkpoint.save(tmp_path / "b", step=1, modules={"net": net})
    (path / checkpoint.MANIFEST).write_text('{"format": "rlsuite-checkp')
    with pytest.raises(CheckpointError, match="not valid JSON"):
        checkpoint.load(path)

    (path / checkpoint.MANIFEST).write_text(json.dumps({"format": "other"}))
    with pytest.raises(CheckpointError, match="not an rlsuite checkpoint"):
        checkpoint.load(path)

    with pytest.raises(CheckpointError, match="no rlsuite checkpoint"):
        checkpoint.load(tmp_path / "empty")


def test_wrong_module_names_and_unsupported_state_are_clear(tmp_path: Path) -> None:
    net = torch.nn.Linear(2, 2)
    checkpoint.save(tmp_path, step=0, modules={"q": net})
    with pytest.raises(CheckpointError, match="has no module 'policy'"):
        checkpoint.load(tmp_path, modules={"policy": net})
    with pytest.raises(TypeError, match="state/config.*set"):
        checkpoint.save(tmp_path, step=1, state={"config": {1, 2}})
    assert checkpoint.load(tmp_path).step == 0


def test_state_round_trips_numpy_torch_and_json(tmp_path: Path) -> None:
    state = {
        "counters": {"env_steps": 123, "episodes": 4},
        "array": np.arange(6, dtype=np.uint8).reshape(2, 3),
        "tensor": torch.tensor([1.5, -2.0]),
        "nested": [np.float32(0.5), "text", None, True],
    }
    checkpoint.save(tmp_path, step=7, state=state)
    got = checkpoint.load(tmp_path).state
    assert got["counters"] == state["counters"]
    np.testing.assert_array_equal(got["array"], state["array"])
    assert got["array"].dtype == np.uint8
    torch.testing.assert_close(got["tensor"], state["tensor"])
    assert got["nested"] == [0.5, "text", None, True]


# ------------------------------------------------------------------ untrusted checkpoints
def _saved(tmp_path: Path) -> tuple[_Run, Path]:
    run = _Run(seed=5)
    for _ in range(3):
        run.step()
    return run, run.save(tmp_path / "ckpt")


def _edit_manifest(path: Path, edit) -> None:
    manifest = json.loads((path / checkpoint.MANIFEST).read_text())
    edit(manifest)
    (path / checkpoint.MANIFEST).write_text(json.dumps(manifest))


def _snapshot(run: _Run):
    return ([p.detach().clone() for p in run.net.parameters()],
            {k: {n: t.clone() for n, t in v.items()} for k, v in run.opt.state.items()},
            torch.get_rng_state().clone(), run.rng.bit_generator.state)


def _unchanged(run: _Run, before) -> None:
    params, opt, torch_rng, np_rng = before
    for p, q in zip(run.net.parameters(), params, strict=True):
        torch.testing.assert_close(p, q)
    for k, v in run.opt.state.items():
        for n, t in v.items():
            torch.testing.assert_close(t, opt[k][n])
    assert torch.equal(torch.get_rng_state(), torch_rng)
    assert run.rng.bit_generator.state == np_rng


def _set(path: list, value):
    def edit(manifest):
        node = manifest
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return edit


def _drop(path: list):
    def edit(manifest):
        node = manifest
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    return edit


@pytest.mark.parametrize(
    "edit, field",
    [
        (_set(["step"], 1.5), "step"),
        (_set(["step"], -5), "step"),
        (_set(["step"], True), "step"),
        (_drop(["step"]), "step"),
        (_drop(["modules"]), "modules"),
        (_set(["optimizers"], [1, 2]), "optimizers"),
        (_set(["modules", "net", "weight", "__tensor__"], "nope"), "modules/net/weight"),
        (_set(["modules", "net", "weight", "kind"], "pickle"), "modules/net/weight"),
        (_drop(["modules", "net", "bias"]), "modules/net"),
        (_set(["modules", "net", "bias"], 3.0), "modules/net/bias"),
        (_set(["modules", "net", "bias", "__tensor__"], "modules/net/weight"), "modules/net/bias"),
        (_set(["optimizers", "opt", "param_groups", 0, "params"], [0]),
         "optimizers/opt/param_groups/0/params"),
        (_set(["optimizers", "opt", "param_groups", 0, "lr"], "fast"),
         "optimizers/opt/param_groups/0/lr"),
        (_set(["optimizers", "opt", "param_groups", 0, "betas"], [0.9]),
         "optimizers/opt/param_groups/0/betas"),
        (_set(["optimizers", "opt", "state", "7"], {}), "optimizers/opt/state/7"),
        (_set(["optimizers", "opt", "state", "0", "exp_avg", "__tensor__"],
              "optimizers/opt/state/1/exp_avg"), "optimizers/opt/state/0/exp_avg"),
        (_set(["state", "rng", "torch", "__tensor__"], "modules/net/weight"), "state/rng/torch"),
        (_set(["state", "rng", "python"], [3, [1, 2, 3], None]), "state/rng/python"),
        (_set(["state", "rng", "numpy", "bit_generator"], "Evil"), "state/rng/numpy"),
        (_set(["state", "rng", "numpy", "state"], {"state": "x", "inc": 1}), "state/rng/numpy"),
        (_drop(["state", "rng", "torch"]), "state/rng"),
    ],
)
def test_corrupt_fields_are_named_and_nothing_is_modified(tmp_path: Path, edit, field) -> None:
    run, path = _saved(tmp_path)
    _edit_manifest(path, edit)
    fresh = _Run(seed=11)
    fresh.step()  # optimizer state exists, so a partial load would show
    before = _snapshot(fresh)
    with pytest.raises(CheckpointError, match=rf"manifest\.json: field {field}\b"):
        fresh.restore(path)
    _unchanged(fresh, before)


def test_tensor_of_the_wrong_shape_for_the_module(tmp_path: Path) -> None:
    _, path = _saved(tmp_path)
    wide = torch.nn.Linear(3, 1)
    before = [p.detach().clone() for p in wide.parameters()]
    with pytest.raises(CheckpointError, match=r"field modules/net/weight: shape \(1, 2\) does "
                                              r"not fit the module's \(1, 3\)"):
        checkpoint.load(path, modules={"net": wide})
    for p, q in zip(wide.parameters(), before, strict=True):
        torch.testing.assert_close(p, q)


def test_optimizer_of_other_parameters_is_refused_before_step_crashes(tmp_path: Path) -> None:
    _, path = _saved(tmp_path)
    other = torch.nn.Linear(3, 1)
    opt = torch.optim.Adam(other.parameters())
    with pytest.raises(CheckpointError,
                       match=r"optimizers/opt/state/0/exp_avg: .* shape \(1, 2\) does not fit"):
        checkpoint.load(path, optimizers={"opt": opt})
    two_groups = torch.optim.Adam([{"params": [other.weight]}, {"params": [other.bias]}])
    with pytest.raises(CheckpointError, match=r"optimizers/opt/param_groups: 1 parameter groups"):
        checkpoint.load(path, optimizers={"opt": two_groups})


def test_restore_rng_checks_before_touching_any_generator() -> None:
    rng = np.random.default_rng(0)
    good = checkpoint.rng_state(rng)
    before = torch.get_rng_state().clone()
    with pytest.raises(CheckpointError, match="field rng/numpy"):
        checkpoint.restore_rng({**good, "numpy": {"bit_generator": "PCG64", "state": 5}}, rng)
    with pytest.raises(CheckpointError, match="field rng/numpy: bit generator 'MT19937'"):
        checkpoint.restore_rng(checkpoint.rng_state(np.random.Generator(np.random.MT19937(1))),
                               rng)
    assert torch.equal(torch.get_rng_state(), before)


def test_latest_pointer_that_is_not_a_name(tmp_path: Path) -> None:
    _, path = _saved(tmp_path)
    root = path.parent
    (root / checkpoint.LATEST).write_bytes(b"step_\xff\xfe\n")
    with pytest.raises(CheckpointError, match=r"latest: field latest: unreadable or not ASCII"):
        checkpoint.load(root)
    for bad in ("../../etc", "step_" + "9" * 300, "step_1\nstep_2", ".."):
        (root / checkpoint.LATEST).write_text(bad + "\n")
        with pytest.raises(CheckpointError, match="not a checkpoint directory name"):
            checkpoint.latest(root)


def test_save_refuses_a_step_that_is_not_a_count(tmp_path: Path) -> None:
    for bad in (1.5, -5, True, "3"):
        with pytest.raises(CheckpointError, match="step must be a non-negative int"):
            checkpoint.save(tmp_path, step=bad)  # type: ignore[arg-type]
    assert not list(tmp_path.glob("step_*"))


def test_deeply_nested_manifest_is_corrupt_not_a_recursion_crash(tmp_path: Path) -> None:
    _, path = _saved(tmp_path)
    (path / checkpoint.MANIFEST).write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(CheckpointError, match="corrupt"):
        checkpoint.load(path)


@pytest.mark.parametrize("make", [
    lambda p: torch.optim.Adam(p, amsgrad=True), lambda p: torch.optim.AdamW(p),
    lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9), lambda p: torch.optim.SGD(p, lr=0.1),
    lambda p: torch.optim.RMSprop(p), lambda p: torch.optim.LBFGS(p),
])
def test_every_common_optimizer_round_trips_through_the_checks(tmp_path: Path, make) -> None:
    def closure(net: torch.nn.Module, opt: torch.optim.Optimizer):
        def run() -> torch.Tensor:
            opt.zero_grad()
            loss = net(torch.ones(1, 2)).sum()
            loss.backward()
            return loss
        return run

    net = torch.nn.Linear(2, 1)
    opt = make(net.parameters())
    opt.step(closure(net, opt))
    checkpoint.save(tmp_path, step=1, modules={"net": net}, optimizers={"opt": opt})
    other = torch.nn.Linear(2, 1)
    again = make(other.parameters())
    checkpoint.load(tmp_path, modules={"net": other}, optimizers={"opt": again})
    again.step(closure(other, again))  # the loaded state fits the parameters
