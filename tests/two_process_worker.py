"""One rank of the 2-process training test, started by torchrun (fresh interpreters: forking a process whose torch
thread pools already ran, as `debug_launcher` does, can deadlock).

Usage: torchrun --standalone --nproc_per_node 2 tests/two_process_worker.py OUTPUT_DIR DATA BACKBONE REPORT_DIR
"""

import json
import sys
from pathlib import Path

import torch

from relbert_hf.training import TrainerCallback, train
from test_training import tiny_args


class ReplicaCheck(TrainerCallback):
    """After every step: gather the flattened parameters of all ranks and record whether they are identical."""

    def __init__(self):
        self.identical = []

    def on_step_end(self, state, accelerator, model):
        flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()]).unsqueeze(0)
        gathered = accelerator.gather(flat)
        self.identical.append(all(torch.equal(gathered[0], row) for row in gathered[1:]))
        self.world = (accelerator.process_index, accelerator.num_processes, str(accelerator.distributed_type))


def main(output_dir: str, data: str, backbone: str, report_dir: str):
    torch.set_num_threads(1)
    check = ReplicaCheck()
    args = tiny_args(output_dir, data, model=backbone, epoch=1, gradient_accumulation_steps=2, checkpointing_steps=None)
    args.cpu = True
    train(args, callbacks=[check])
    rank, world_size, distributed_type = check.world
    report = {"rank": rank, "world_size": world_size, "distributed_type": distributed_type, "identical": check.identical}
    Path(report_dir, f"rank_{rank}.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main(*sys.argv[1:5])
