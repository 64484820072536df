//! Engine unit tests live in the drill's scenario tests; this module holds the few that
//! need engine internals.
