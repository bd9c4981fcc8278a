"""Serving models: what a recipe exports as its SavedModel, one module per model family.

Each wraps a trained model from `zoo.models` (with its preprocessing) so that the SavedModel takes
what a user has (raw strings, arrays) through a `serve` endpoint, plus any extra endpoints it lists
in `endpoints` (`zoo.export.save_serving` writes them). These modules may import `zoo.models`,
`zoo.layers` and `zoo.data`, never `zoo.recipes` or `zoo.training`.

Chapter 12's `SquadServer` stays in its family package, `zoo.squad.serving`, beside the windows and
span search it composes.
"""
