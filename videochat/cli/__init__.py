"""The `videochat` command line: `probe`, `sample`, `preprocess`, `ask`, `export` (`commands.py`),
`models` and `download` (`models.py`), `batch` (`batch.py`); shared arguments in `arguments.py`."""


def main(argv: list[str] | None = None) -> int:
    from videochat.cli.commands import main as run

    return run(argv)
