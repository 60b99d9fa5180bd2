"""Unit tests of the runner's pure parts. They run inside the sandbox image:
`python3 -m unittest discover -s /opt/sandbot/runner/tests -t /opt/sandbot`
(test/integration/runner-units.test.ts does that with the worker's hardening)."""
