"""What many test modules share (no tests here): `golden` (the one golden-file mechanism),
`policies` (small policies checked from text), `cli` (running `leukorules` in-process) and
`profiles` (hypothesis profiles and example budgets)."""
