"""Engine options in aiport.yaml are typed: a typo or a bad value stops start-up with a
message naming the engine and the option, instead of the engine silently disappearing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from aiport.backends.local.engine import EngineConfigError, UnavailableEngine, options_markdown
from aiport.backends.registry import LOCAL_ENGINES, build_local_engines, build_router, load_object
from aiport.errors import NoHealthyDeployment
from aiport.services import Services
from aiport.settings import FileConfig, Settings

ROOT = Path(__file__).resolve().parent.parent


def settings_with(engines: dict[str, Any]) -> Settings:
    settings = Settings()
    settings.file = FileConfig.model_validate({"local": {"engines": engines}})
    return settings


@pytest.mark.parametrize(
    ("engines", "names"),
    [
        ({"chat": {"gguf_pth": "/models/x.gguf"}}, ["`chat`", "unknown option `gguf_pth`"]),
        ({"embeddings": {"batch_size": 0}}, ["`embeddings`", "`batch_size`"]),
        ({"moderation": {"encoder": "bert"}}, ["`moderation`", "`encoder`"]),
        ({"speech": {"queue_size": "many"}}, ["`speech`", "`queue_size`"]),
        ({"transcription": {"beam": 3}}, ["`transcription`", "`beam`"]),
        ({"images": {"concurrency": -1}}, ["`images`", "`concurrency`"]),
        ({"qwen": {"gguf_path": "/m.gguf"}}, ["`qwen`", "backend: module:Class"]),
    ],
)
def test_a_wrong_option_names_the_engine_and_the_option(
    engines: dict[str, Any], names: list[str]
) -> None:
    with pytest.raises(EngineConfigError) as raised:
        build_local_engines(settings_with(engines))
    for name in names:
        assert name in str(raised.value)


def test_diffusion_options_are_checked_too() -> None:
    engines = {
        "images": {
            "backend": "aiport.backends.local.diffusion:DiffusionBackend",
            "model_path": "/m.safetensors",
            "stpes": 30,
        }
    }
    with pytest.raises(EngineConfigError, match=r"`images`: unknown option `stpes`"):
        build_local_engines(settings_with(engines))


def test_aiport_serve_stops_with_the_message(tmp_path: Path) -> None:
    config = tmp_path / "aiport.yaml"
    config.write_text(yaml.safe_dump({"local": {"engines": {"chat": {"n_ctxx": 4096}}}}))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AIPORT_"))}
    env |= {"AIPORT_DATA_DIR": str(tmp_path / "data"), "AIPORT_MASTER_KEY": "sk-test-0123456789"}
    done = subprocess.run(
        [sys.executable, "-m", "aiport", "serve", "--port", "0", "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "local engine `chat`: unknown option `n_ctxx`" in done.stderr
    assert "Traceback" not in done.stderr


async def test_an_engine_whose_code_is_missing_is_reported_not_dropped() -> None:
    settings = settings_with(
        {name: {"enabled": False} for name in LOCAL_ENGINES}
        | {"chat": {"backend": "aiport_no_such_module:Engine", "model_id": "mine"}}
    )
    services = Services.build(settings, "sk-test-0123456789")
    engine = services.engines["chat"]
    assert isinstance(engine, UnavailableEngine)
    await services.start()
    try:
        assert "No module named 'aiport_no_such_module'" in services.failed["local-chat"]
        group = services.router.resolve("gpt-4o")  # still routed: answered with a 503
        assert "aiport_no_such_module" in (group.deployments[0].health.down or "")
        # ... but not offered in /v1/models: a client picking from the list would get a 503
        assert not {"mine", "gpt-4o"} & {model.id for model in services.router.listed()}

        async def never(*_: object) -> None:
            raise AssertionError("a down engine is not called")

        with pytest.raises(NoHealthyDeployment) as refused:
            await services.runner.run(group, never)
        assert refused.value.status == 503 and refused.value.headers["retry-after"]
    finally:
        await services.close()


async def test_an_engine_without_its_packages_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`pip install aiport` without the `local` extra: its engines say how to get them."""
    settings = settings_with({name: {"enabled": name == "moderation"} for name in LOCAL_ENGINES})
    services = Services.build(settings, "sk-test-0123456789")

    def missing() -> None:
        raise ModuleNotFoundError("No module named 'numpy'", name="numpy")

    monkeypatch.setattr(services.engines["moderation"], "load", missing)
    await services.start()
    try:
        reason = services.failed["local-moderation"]
        assert "No module named 'numpy'" in reason and "pip install 'aiport[local]'" in reason
    finally:
        await services.close()


def test_the_readme_lists_every_engine_option() -> None:
    engines = {name: load_object(path) for name, path in LOCAL_ENGINES.items()}
    engines["images (diffusion)"] = load_object("aiport.backends.local.diffusion:DiffusionBackend")
    listed = options_markdown(engines)
    readme = (ROOT / "README.md").read_text()
    assert listed in readme, f"README's engine options differ; paste:\n{listed}"


def test_routing_still_sees_the_default_engines() -> None:
    settings = settings_with({})
    router, _ = build_router(settings, build_local_engines(settings))
    assert router.has("gpt-4o") and router.has("text-embedding-3-small")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (  # the README's routing example once named a provider it did not define
            {"models": {"my-llama": {"provider": "vllm", "model": "meta-llama/Llama-3-8B"}}},
            "model `my-llama` names unknown provider `vllm`",
        ),
        ({"router": {"strategy": "fastest"}}, "router.strategy"),
    ],
)
def test_a_wrong_routing_setting_stops_start_up_with_the_message(
    tmp_path: Path, config: dict[str, Any], message: str
) -> None:
    path = tmp_path / "aiport.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "AIPORT_"))}
    env |= {"AIPORT_DATA_DIR": str(tmp_path / "data"), "AIPORT_MASTER_KEY": "sk-test-0123456789"}
    for command in (["serve", "--port", "0"], ["models"]):
        done = subprocess.run(
            [sys.executable, "-m", "aiport", *command, "--config", str(path)],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode != 0, command
        assert message in done.stderr, command
        assert "Traceback" not in done.stderr, (command, done.stderr[-1500:])


def test_every_aiport_yaml_example_in_the_readme_builds(monkeypatch: pytest.MonkeyPatch) -> None:
    """A new user copies these: each must load and build its routes as written (secrets from
    the environment; `openai` from OPENAI_API_KEY)."""
    readme = (ROOT / "README.md").read_text()
    blocks = [part.split("```")[0] for part in readme.split("```yaml\n")[1:]]
    examples = [block for block in blocks if "models:" in block]
    assert len(examples) >= 3, blocks
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    for example in examples:
        settings = Settings()
        settings.file = FileConfig.model_validate(yaml.safe_load(example))
        if "qwen" in settings.file.local.engines:  # its GGUF path is not here; its route is
            settings.file.local.engines["qwen"]["enabled"] = False
        router, _ = build_router(settings, build_local_engines(settings))
        for name in settings.file.models:
            assert router.has(name), name
