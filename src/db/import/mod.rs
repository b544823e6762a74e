//! An import's writes, on either database: the batch both writers take ([`batch`]), the
//! SQLite writer ([`sqlite`]) and the PostgreSQL one ([`postgres`]), the connection they
//! run on ([`writer`]), and the undo of an import ([`undo`]). The queue of imports, their
//! leases and reports are [`super::imports`].
//!
//! **Duplicates without a set in memory.** A number may repeat anywhere in a file of any
//! size. Within a batch the parser finds repeats itself; across batches the database is
//! the record of what the import has met, in the batch's transaction (so a resumed
//! import knows exactly what it met): the contacts it created (`import_created`, runs of
//! consecutive ids with each one's line) and the existing contacts it matched
//! (`import_matched`). For example, with batches of two rows:
//!
//! | batch | line | number | its contact | counted as |
//! | --- | --- | --- | --- | --- |
//! | 1 | 2 | +6581 | new, id 101 | created; `import_created` (101: line 2) |
//! | 1 | 3 | +6599 | id 7, older than the import | matched; `import_matched` (7: line 3) |
//! | 2 | 4 | +6581 | id 101, in a run of this import | duplicate of line 2 |
//! | 2 | 5 | +6599 | id 7, in `import_matched` | duplicate of line 3 |
//!
//! The same notes tell an undo what to take back, until its window has passed.

pub mod batch;
mod postgres;
mod sqlite;
pub mod undo;
pub mod writer;
