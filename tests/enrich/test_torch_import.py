"""PyTorch hidden from spaCy's import in one thread while an ONNX export imports it in another: the export waits
for it, rather than failing with "import of torch halted" (the NER and the embedder load side by side)."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def test_an_export_waits_while_the_entities_hide_pytorch_in_another_thread() -> None:
    # In a fresh interpreter: PyTorch must not be loaded yet for the entities to hide it.
    script = textwrap.dedent(
        """
        import sys, threading, time
        from broadsheet.enrich.entities import _torch_hidden
        from broadsheet.enrich.onnx_export import import_torch

        assert "torch" not in sys.modules
        hidden, found = threading.Event(), []

        def entities():
            with _torch_hidden():
                hidden.set()
                time.sleep(1.0)  # spaCy loading, PyTorch hidden meanwhile

        loader = threading.Thread(target=entities)
        loader.start()
        hidden.wait()
        found.append(import_torch().__name__)
        loader.join()
        print(found[0], sys.modules["torch"] is not None)
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["torch", "True"]
