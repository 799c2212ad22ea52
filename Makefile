# Sam: the two commands are `make run` and `make test`; the rest are helpers.
PY := .venv/bin/python
SETUP := .venv/.installed

.PHONY: run test serve train eval bench validate content chat purge clean

$(SETUP): requirements.lock pyproject.toml scripts/setup-venv.sh
	@bash scripts/setup-venv.sh

run: $(SETUP)          ## set up and start Sam: the channel answers at once, Rasa starts (and trains) beside it
	@$(PY) -m bot run

test: $(SETUP)         ## set up (plus Debian's Chromium), lint, train if needed, run the whole test suite
	@bash scripts/setup-chromium.sh
	@$(PY) -m ruff check .
	@$(PY) -m bot train
	@$(PY) -m pytest -q

serve: $(SETUP)        ## Rasa server (127.0.0.1:5005) + action server (127.0.0.1:5055) in the foreground
	@$(PY) -m bot serve

train: $(SETUP)        ## train into models/ when missing or outdated
	@$(PY) -m bot train

eval: $(SETUP)         ## evaluation reports in reports/ (NLU cross-validation, risk detection, dialogue)
	@$(PY) -m bot eval

bench: $(SETUP)        ## REST round-trip latency and risk-check speed
	@$(PY) -m bot bench

validate: $(SETUP)     ## rasa data validate (no warnings allowed) + the content check
	@$(PY) -m bot validate

content: $(SETUP)      ## check content/ (texts, helplines, risk words), the stories and example questions, in Dutch
	@$(PY) -m bot content check

chat: $(SETUP)         ## terminal chat against servers started with `make serve`
	@$(PY) -m bot chat

purge: $(SETUP)        ## delete now what is older than the retention limits (also runs hourly)
	@$(PY) -m bot purge

clean:                 ## remove .venv, models and reports
	rm -rf .venv models reports .rasa
