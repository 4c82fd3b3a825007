"""The "pytorch" flavor: TorchScript modules saved with `torch.jit.save` as `model.pt`.

TorchScript, not a pickled `nn.Module` or a state dict, because it loads with `torch.jit.load`
alone: serving needs neither the class's source code nor the training script. An `nn.Module`
given to `save` is compiled with `torch.jit.script` first; a module that does not script can be
traced by the user (`torch.jit.trace(model, example)`) and saved as that.

torch >= 2.10 marks `torch.jit` deprecated in favour of `torch.export`, but TorchScript is still
what `torch.jit.load` serves with no Python source; the deprecation warnings are silenced here
(and only here) so that `-W error` test runs and users' logs stay clean.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from mlyard.entities.registry.model import ModelMetadata
from mlyard.errors import InvalidArgument
from mlyard.flavors import refuse_model
from mlyard.flavors.files import candidate_files, model_file
from mlyard.flavors.metadata import installed_versions

MODEL_FILE = "model.pt"
MODEL_SUFFIXES = (".pt", ".pth", ".torchscript")


class PytorchFlavor:
    """Saves a TorchScript module (scripting a plain `nn.Module`); loads it on the CPU in eval mode."""

    name = "pytorch"

    def check_model(self, model: Any) -> None:
        # torch is imported only when the object could be one of its modules.
        roots = {cls.__module__.split(".")[0] for cls in type(model).__mro__}
        if "torch" in roots:
            import torch

            if isinstance(model, torch.nn.Module | torch.jit.ScriptModule | torch.jit.ScriptFunction):
                return
        raise refuse_model(self.name, model, "torch.nn.Module or TorchScript models")

    def save(self, model: Any, folder: Path) -> str:
        import torch

        self.check_model(model)
        if not isinstance(model, torch.jit.ScriptModule | torch.jit.ScriptFunction):
            try:
                with _quiet_jit():
                    model = torch.jit.script(model)
            except Exception as exc:  # torch raises many kinds of errors while compiling
                raise InvalidArgument(
                    f"cannot compile the {type(model).__name__} model with torch.jit.script: {exc}; "
                    "trace it yourself (torch.jit.trace(model, example_input)) and log the traced module"
                ) from exc
        folder.mkdir(parents=True, exist_ok=True)
        with _quiet_jit():
            torch.jit.save(model, str(folder / MODEL_FILE))
        return MODEL_FILE

    def load(self, folder: Path, metadata: ModelMetadata) -> Any:
        import torch

        with _quiet_jit():
            path = str(model_file(folder, metadata.model_file, MODEL_FILE, MODEL_SUFFIXES))
            module = torch.jit.load(path, map_location="cpu")  # type: ignore[no-untyped-call]
        module.eval()
        return module

    def framework_versions(self) -> dict[str, str]:
        return installed_versions("torch", "numpy")

    def can_register_folder(self, folder: Path) -> None:
        if folder.is_file():
            if folder.suffix not in MODEL_SUFFIXES:
                raise InvalidArgument(
                    f"{folder} is not a TorchScript file; flavor 'pytorch' needs a "
                    f"{', '.join(MODEL_SUFFIXES)} file saved with torch.jit.save"
                )
            return
        if not candidate_files(folder, MODEL_SUFFIXES):
            raise InvalidArgument(
                f"model folder {folder} has no {', '.join(MODEL_SUFFIXES)} file at its top level; flavor "
                "'pytorch' needs one saved with torch.jit.save, or use flavor 'custom' with a score.py"
            )


@contextlib.contextmanager
def _quiet_jit() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message=r".*torch\.jit.* is deprecated", category=DeprecationWarning
        )
        yield


FLAVOR = PytorchFlavor()
