"""pygame front ends: the windows of `rlsuite watch` and the human player.

- `toolkit`: pacing, pause and recording shared by every window;
- `board`: the Go board window and `HumanPlayer`;
- `go`, `chip`, `atari`: the three watch apps (`watch_go`, `watch_chip`, `watch_atari`) with
  their options.

The drawing itself belongs to each env's view (`GoBoardView`, the chip view, `AtariView`);
these modules add windows, controls, buttons and recording. Argument parsing lives in
`rlsuite.cli.watch`.
"""
