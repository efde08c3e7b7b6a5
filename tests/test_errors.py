"""One error type: every exception persona-lab defines is a PersonaLabError with a hint, and the CLI
prints message and hint for it and nothing else (any other exception is a bug and keeps its traceback)."""

from __future__ import annotations

import importlib
import inspect
import pkgutil

import pytest

import persona_lab
from persona_lab.cli import main
from persona_lab.errors import PersonaLabError


def _defined_exceptions() -> list[type]:
    found = []
    for module_info in pkgutil.walk_packages(persona_lab.__path__, "persona_lab."):
        if module_info.name.endswith("__main__"):
            continue
        module = importlib.import_module(module_info.name)
        found += [obj for _, obj in inspect.getmembers(module, inspect.isclass)
                  if issubclass(obj, BaseException) and obj.__module__ == module.__name__]
    return found


def test_every_exception_persona_lab_defines_is_a_persona_lab_error():
    exceptions = _defined_exceptions()
    assert len(exceptions) >= 15  # the walk found the modules
    assert [e.__qualname__ for e in exceptions if not issubclass(e, PersonaLabError)] == []


def test_the_cli_prints_message_and_hint_and_exits_1(tmp_path, capsys):
    assert main(["variants", "--config", str(tmp_path / "missing.yaml")]) == 1
    err = capsys.readouterr().err
    assert f"error: {tmp_path / 'missing.yaml'}: config file not found" in err and "hint: every option" in err
    config = tmp_path / "lab.yaml"
    config.write_text(f"name: lab\nworkspace: {tmp_path / 'ws'}\n", "utf-8")
    assert main(["variants", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "variants.json: no variant registry yet" in err and "hint: run `persona-lab train`" in err


def test_an_error_that_is_not_ours_is_not_swallowed(monkeypatch, tmp_path):
    import persona_lab.config

    def broken(path):
        raise KeyError("a bug")

    monkeypatch.setattr(persona_lab.config, "load_config", broken)
    with pytest.raises(KeyError):
        main(["variants", "--config", str(tmp_path / "lab.yaml")])
