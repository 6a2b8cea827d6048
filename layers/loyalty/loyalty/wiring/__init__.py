"""Each function's flow with the real adapters it runs with, built from its settings: one module per function.

A handler module calls its builder once, at cold start; a flow never builds an adapter itself, so a flow test passes
in-memory fakes instead (tests/fakes.py). Loading the program here means a bad or unsafe program file stops the
function at cold start, not at its first message. Each function's module imports only the flows and adapters that
function runs: a cold start pays for nothing another function needs (`make bench SECTIONS=cold_import` gives each
function's import against `import boto3`, its budget, and what it imports beyond boto3).
"""
