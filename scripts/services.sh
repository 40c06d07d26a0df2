#!/usr/bin/env bash
# Starts (or stops) throwaway PostgreSQL and Redis servers on 127.0.0.1 for the test suite.
# Source it with `start` to get SESSIONKIT_POSTGRES_URL and SESSIONKIT_REDIS_URL exported.
# Placeholder until the Postgres and Redis stores land: it starts nothing.
case "${1:-start}" in
  start) : ;;
  stop) : ;;
esac
