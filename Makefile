# Makefile for a Pelican blog that writes itself.
# The pelican-quickstart targets and variables are kept; install, test, corpus, train,
# backfill, daily and report are this project's.

VENV ?= .venv
PY ?= $(if $(wildcard $(VENV)/bin/python),$(VENV)/bin/python,python3)
PELICAN ?= $(PY) -m pelican
PELICANOPTS ?=
# Which PyTorch `make install` puts in first (a CPU build is used where one is provided locally).
TORCH ?= torch==2.13.0

BASEDIR = $(CURDIR)
INPUTDIR = $(BASEDIR)/content
OUTPUTDIR = $(BASEDIR)/output
CONFFILE = $(BASEDIR)/pelicanconf.py
PUBLISHCONF = $(BASEDIR)/publishconf.py

CORPUS ?= data/corpus.txt
RUN ?= blog
STEPS ?= 1000
TRAINOPTS ?=

SSH_HOST = localhost
SSH_PORT = 22
SSH_USER = root
SSH_TARGET_DIR = /var/www

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
	@echo '   make test                        run the test suite                      '
	@echo 'Writing and training:                                                       '
	@echo '   make corpus                      content/ -> $(CORPUS) (+ corpus.json)   '
	@echo '   make train [RUN=blog STEPS=1000] fine-tune GPT-2 on the corpus           '
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

install:
	python3 -m venv $(VENV)
	$(VENV)/bin/python -m pip install --upgrade pip
	$(VENV)/bin/python -m pip install "$(TORCH)"
	$(VENV)/bin/python -m pip install -e ".[dev]"

test:
	$(PY) -m pytest -q

corpus:
	$(PY) -m corpus_builder.cli -o $(CORPUS)

train:
	$(PY) -m trainer.cli fit --corpus $(CORPUS) --run $(RUN) --steps $(STEPS) $(TRAINOPTS)

html:
	$(PELICAN) "$(INPUTDIR)" -o "$(OUTPUTDIR)" -s "$(CONFFILE)" $(PELICANOPTS)

clean:
	[ ! -d "$(OUTPUTDIR)" ] || rm -rf "$(OUTPUTDIR)"

regenerate:
	$(PELICAN) -r "$(INPUTDIR)" -o "$(OUTPUTDIR)" -s "$(CONFFILE)" $(PELICANOPTS)

serve:
	$(PELICAN) -l "$(INPUTDIR)" -o "$(OUTPUTDIR)" -s "$(CONFFILE)" $(PELICANOPTS)

serve-global:
	$(PELICAN) -l "$(INPUTDIR)" -o "$(OUTPUTDIR)" -s "$(CONFFILE)" $(PELICANOPTS) -b $(SERVER)

devserver:
	$(PELICAN) -lr "$(INPUTDIR)" -o "$(OUTPUTDIR)" -s "$(CONFFILE)" $(PELICANOPTS)

devserver-global:
	$(PELICAN) -lr "$(INPUTDIR)" -o "$(OUTPUTDIR)" -s "$(CONFFILE)" $(PELICANOPTS) -b 0.0.0.0

publish:
	$(PELICAN) "$(INPUTDIR)" -o "$(OUTPUTDIR)" -s "$(PUBLISHCONF)" $(PELICANOPTS)

ssh_upload: publish
	scp -P $(SSH_PORT) -r "$(OUTPUTDIR)"/* "$(SSH_USER)@$(SSH_HOST):$(SSH_TARGET_DIR)"

rsync_upload: publish
	rsync -e "ssh -p $(SSH_PORT)" -P -rvzc --include tags --cleanup "$(OUTPUTDIR)"/ "$(SSH_USER)@$(SSH_HOST):$(SSH_TARGET_DIR)" --delete


.PHONY: help install test corpus train html clean regenerate serve serve-global devserver devserver-global publish ssh_upload rsync_upload
