"""`trainer`: fine-tune, evaluate, sample from and report on a GPT-2 style model.

The group only wires sub-commands together; each lives in its own module as a thin click layer
over functions that the tests call directly. Nothing here imports torch at import time, so
`trainer --help` is instant.
"""
from __future__ import annotations

import click

from trainer.cli.evaluate import eval_command
from trainer.cli.export_web import export_web_command
from trainer.cli.fit import fit_command
from trainer.cli.report import report_command
from trainer.cli.review import queue_command, review_command
from trainer.cli.sample import sample_command


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
def main() -> None:
    """Fine-tune GPT-2 on your blog's corpus and sample posts from it.

    \b
    Typical use, after `make corpus`:
      trainer fit --steps 1000                 # data/corpus.txt -> models/blog/
      trainer eval --run blog                  # held-out perplexity
      trainer sample --run blog -n 3 --gate    # three posts and the gate's verdicts
      trainer report --run blog                # models/blog/report.html
      trainer queue --ahead 14                 # the blog's coming posts, for review
      trainer review                           # approve/reject them in a local page
      trainer export-web blog                  # models/blog/web/, for readers' browsers

    Every command names its run with -r/--run NAME_OR_PATH (default: blog) and --models-dir DIR:
    see README.md, 'Naming a run'.
    """


main.add_command(fit_command)
main.add_command(eval_command)
main.add_command(sample_command)
main.add_command(report_command)
main.add_command(queue_command)
main.add_command(review_command)
main.add_command(export_web_command)


if __name__ == "__main__":
    main()
