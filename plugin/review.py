"""`python -m plugin.review` (`make review`, `trainer review`): review the queued posts in a browser.

    make queue AHEAD=14      # first: today's and the coming days' posts, into review/queue/
    make review              # prints http://127.0.0.1:PORT/ ; open it, decide, press Done (or Ctrl-C)

A local page on 127.0.0.1 only, on a free port, started and stopped by this command; no account, no
network, nothing fetched from elsewhere (``plugin.review_server``, ``plugin.review_page``). Every
decision is written at once to ``review/decisions.json`` (``plugin.review_actions``), so stopping at
any moment loses nothing. With ``DAILY_POST_REVIEW = True`` the builds then publish the approved
posts on their days.
"""
from __future__ import annotations

import logging
import sys

import click

from common.errors import one_line

from . import review_actions, review_files, review_queue
from .settings import DailyPostSettings


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-s", "--settings", "conf", default="pelicanconf.py", show_default=True,
              help="The site's Pelican settings file.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="The port on 127.0.0.1 (0: a free one).")
@click.option("--open/--no-open", "open_browser", default=False, show_default=True,
              help="Open the page in the default browser.")
def main(conf: str, port: int, open_browser: bool) -> None:
    """Review the queued machine-written posts: approve, reject, star, retitle.

    \b
    Examples:
      python -m plugin.review
      python -m plugin.review -s pelicanconf.py --open
    """
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    try:
        settings = DailyPostSettings.from_file(conf)
        warning = review_queue.warn_if_read(settings)
        if warning:
            click.echo(f"warning: {warning}", err=True)
        if not review_actions.has_queue(settings):
            raise review_files.QueueFileError(
                f"nothing to review: {review_files.paths(settings).queue} holds no queued post; run `make queue` "
                "first (or python -m plugin.review_queue)")
        with review_server_session(settings, port) as session:
            click.echo(f"Review the posts at {session.url}  (Done on the page, or Ctrl-C here, ends it)")
            if open_browser:
                import webbrowser

                webbrowser.open(session.url)
            try:
                while not session.wait(0.5):
                    pass
            except KeyboardInterrupt:
                click.echo("")
    except Exception as err:  # settings, no queue, a busy or broken review folder: one line
        click.echo(f"error: {one_line(err)}", err=True)
        sys.exit(1)
    click.echo(f"Review closed; your decisions are in {review_files.paths(settings).decisions}")


def review_server_session(settings, port: int):
    from .review_server import open_session

    return open_session(settings, port)


if __name__ == "__main__":
    main()
