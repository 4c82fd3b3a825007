"""What jobs run with: environments (specs, build contexts, curated ones, requirements), components
(and mlyard's built-in ones), compute targets."""
