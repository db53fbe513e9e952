"""Pelican settings for the demo blog. `make html` uses this file."""
AUTHOR = "Mara Lindqvist"
SITENAME = "Field Notes from a Rooftop Weather Station"
SITESUBTITLE = "Wind, rain and gulls, measured from a seventh-floor roof"
SITEURL = ""

PATH = "content"
ARTICLE_PATHS = ["posts", "generated"]
PAGE_PATHS = ["pages"]
STATIC_PATHS = ["images"]

TIMEZONE = "Europe/Stockholm"
DEFAULT_LANG = "en"
DEFAULT_DATE_FORMAT = "%-d %B %Y"  # "%-d": Pelican strips the zero on every platform

# The site's own theme (templates in theme/templates, CSS in theme/static); see the README.
THEME = "theme"
# Pages (content/pages/, e.g. "About the machine") appear in the top menu; categories do not.
DISPLAY_PAGES_ON_MENU = True
DISPLAY_CATEGORIES_ON_MENU = False
# Extra links in the footer: (name, url) pairs.
LINKS = ()
# A sentence or two above the posts on the home page (HTML allowed); "" for none.
SITE_INTRO = (
    "A notebook about a home-built weather station on the roof of a seventh-floor flat by the sea: "
    "the hardware, the data, what the sky did, and the gulls."
)

# Feeds are on in development too, so `make html` shows the whole site as it will be published.
FEED_ALL_ATOM = "feeds/all.atom.xml"
CATEGORY_FEED_ATOM = "feeds/{slug}.atom.xml"
TAG_FEED_ATOM = "feeds/tag-{slug}.atom.xml"
TRANSLATION_FEED_ATOM = None
AUTHOR_FEED_ATOM = None
AUTHOR_FEED_RSS = None

DEFAULT_PAGINATION = 8

# The theme renders these direct templates; "404" becomes output/404.html (point your web server's
# error page at it).
DIRECT_TEMPLATES = ["index", "tags", "categories", "authors", "archives", "404"]

# Period archives: /2025/ and /2025/01/ list that year's and month's posts.
YEAR_ARCHIVE_URL = "{date:%Y}/"
YEAR_ARCHIVE_SAVE_AS = "{date:%Y}/index.html"
MONTH_ARCHIVE_URL = "{date:%Y}/{date:%m}/"
MONTH_ARCHIVE_SAVE_AS = "{date:%Y}/{date:%m}/index.html"

MARKDOWN = {
    "extension_configs": {
        "markdown.extensions.codehilite": {"css_class": "highlight"},
        "markdown.extensions.extra": {},
        "markdown.extensions.meta": {},
        "markdown.extensions.toc": {},
    },
    "output_format": "html5",
}

ARTICLE_URL = "{date:%Y}/{date:%m}/{slug}.html"
ARTICLE_SAVE_AS = "{date:%Y}/{date:%m}/{slug}.html"

PLUGIN_PATHS = ["."]
PLUGINS = ["plugin"]

# --- DAILY_POST_*: the plugin that publishes one machine-written post a day ------------------
# (Owned by the plugin; every value below is the default, shown so it is easy to change.
#  The README's "Settings" section explains each one.)
DAILY_POST_ENABLED = True
# The model folder (`trainer fit` writes models/<run>/). Relative paths start at the folder that
# holds the content folder. The default is the demo model that `make html` builds when missing;
# point this at your own run (e.g. "models/blog") once you have trained one.
DAILY_POST_MODEL = "models/demo"
DAILY_POST_FOLDER = "generated"  # inside PATH; must be covered by ARTICLE_PATHS
DAILY_POST_CATEGORY = "Machine"
DAILY_POST_TAGS = ["generated"]
DAILY_POST_AUTHOR = "The Machine"
DAILY_POST_TIME = "06:00"  # the time of day written into each post's Date
DAILY_POST_PRECISION = "auto"  # auto | int8 | bf16 | fp32
# The demo model is SmolLM2-135M (30 layers): on a 2-core CPU it writes ~5-15 tokens/s, so the
# first `make html` samples at most 2 rounds x 2 candidates x 300 tokens (defaults: 4 x 3 x 400).
DAILY_POST_SAMPLING = {"max_new_tokens": 300}  # e.g. {"temperature": 0.9, "top_p": 0.95, "max_new_tokens": 400}
DAILY_POST_CANDIDATES = 4
DAILY_POST_ROUNDS = 3
DAILY_POST_GATE = {}  # e.g. {"min_words": 80, "max_repeated": 0.2, "memorised_tokens": 50}
DAILY_POST_STRICT = False  # True: a post that cannot be written fails the build
DAILY_POST_BACKFILL_DAYS = 0  # each build also fills the missing posts of this many past days
DAILY_POST_DISCLOSURE = "This post does not exist: a machine wrote it on {date}."
DAILY_POST_ROBOTS_NOINDEX = True
# "Write me a new post" on "About the machine": the model writes a post in the reader's browser
# (`trainer export-web` makes <model>/web; `make html` does it for the demo model). Off by default:
# readers download the model (the demo's is about 210 MB); the build refuses an export over the limit.
DAILY_POST_BROWSER = True
DAILY_POST_BROWSER_MAX_MB = 300
