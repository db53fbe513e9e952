"""`python -m trainer.cli`: the same as the `trainer` command."""
from trainer.cli import main

main()
