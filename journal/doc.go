// Package journal appends a run's snapshots and request records to disk as the run goes, so that a run killed
// before it could write its files (SIGKILL, `go test -timeout`, a panic, a signal) keeps everything up to its
// last interval, and rebuilds the full file set and summary from what was appended, up to the end of the
// last request appended (the last snapshot, when that came later).
//
// A run's journal is two files beside its final files: journal_<config>_<stamp>.jsonl holds one JSON line (a
// Tick) per snapshot, journal_<config>_<stamp>.requests.bin one binary row per request (since version 2:
// a frame of payload length and CRC-32C, then the row; version 1 wrote a JSON line; version 3 added the send
// lag, ignore_eos, the model and the session turn to the row). Journals written before the requests file was
// renamed call it .requests.jsonl; Find still reads that name. Each starts with a
// Header line naming the format ("vmtest-journal"), its version, the run, the configuration, the start and
// the interval. The collector appends to each file once per interval (one write per file), and keeps them
// bounded as its memory is: request rows stop at the row bound, and when the snapshots file holds
// MaxSnapshots ticks it becomes journal_<config>_<stamp>.prev.jsonl (replacing the one before) and a new one
// begins, so at most the last 2·MaxSnapshots snapshots are on disk. The files are removed once the run's own
// files are written; a journal left in a directory is a run that did not finish.
//
// Read reads a journal up to its last whole line or row (a kill while writing leaves the last one cut; the
// lines and rows skipped are counted, and told apart: cut at the end, unreadable within a file with its
// number, past the row bound) and refuses a file of another format or version, or a header out of bounds; Rebuild
// writes the run's files from it with a summary that says the run did not finish, then renames the journal
// to *.rebuilt.jsonl (the requests file to *.requests.rebuilt.bin). It leaves alone a journal whose run finished or looks still running.
package journal
