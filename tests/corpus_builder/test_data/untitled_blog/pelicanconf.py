# A small made-up cycling blog whose posts carry no Title: metadata: their titles are headings
# or file names. Its THEME folder does not exist, on purpose: the corpus builder renders nothing.
PATH = "."
ARTICLE_PATHS = ["posts"]
TIMEZONE = "Europe/Amsterdam"
THEME = "themes/handlebar"
MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.extra": {},
        "markdown.extensions.meta": {},
    },
    "output_format": "html5",
}
