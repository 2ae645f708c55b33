.PHONY: train demo test lint bench results docs
train:
	bash scripts/train.sh
demo:
	python3 -m audiogym.cli demo
test:
	bash scripts/test.sh
lint:
	python3 -m ruff check .
	python3 -m ruff format --check .
	python3 -m mypy audiogym
bench:
	python3 benchmarks/envs.py
results:
	python3 scripts/results.py render
docs:
	bash scripts/docs.sh
