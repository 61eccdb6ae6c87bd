# The two commands a newcomer needs; both install what is missing first.
.PHONY: run test cluster chaos bench gameday release
run: ## build and serve on the embedded default at http://127.0.0.1:3000
	@scripts/run.sh
test: ## every check: fmt, clippy, unit, integration and end-to-end tests
	@scripts/test.sh
cluster: ## two nodes behind HAProxy with PostgreSQL, Redis and a standalone emulator (see docs/deploy.md)
	@scripts/cluster.sh
chaos: ## the long drills: PostgreSQL and Redis failovers mid-storm, several in a row, and nodes stopped mid-flow, each cost printed (see docs/deploy.md)
	@scripts/chaos.sh
bench: ## the release build under a live-game spike, each figure beside its ceiling (see docs/performance.md)
	@scripts/bench.sh
gameday: ## game night on two nodes with Adobe's throttle on: each SLO against its goal, non-zero when one is missed (see docs/gameday.md)
	@scripts/gameday.sh
release: ## the optimised server and site in one folder, dist/tve-activate or RELEASE_DIR (see docs/deploy.md)
	@scripts/release.sh $(RELEASE_DIR)
