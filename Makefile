# Thin aliases for the scripts (the scripts are the source of truth).
.PHONY: run test lint up

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

lint:
	bash -c 'source scripts/lib.sh && ruff check .'

up:
	docker compose up --build
