//! The results cache at library scale: a moved file's result found by its
//! content among 20 000 copies of one track. Run: `cargo bench --bench cache`.
#![allow(clippy::unwrap_used)] // a test (or bench) that cannot unwrap has failed

use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};

/// A moved file's result found by its content in a cache holding 20 000
/// copies of one track (links and duplicates: one size, one content hash),
/// with the content index and, in the same run, without it (dropped from a
/// second copy of the database): each lookup read every row of that size.
fn moved_result_lookup(c: &mut Criterion) {
    use earmark::cache::{Cache, FileId, FileKey};
    let dir = tempfile::tempdir().unwrap();
    let with = dir.path().join("with.sqlite");
    {
        let cache = Cache::open(&with).unwrap();
        for i in 0..20_000 {
            let id = FileId {
                path: PathBuf::from(format!("/lib/copy {i}.flac")),
                key: FileKey {
                    size: 4_242_424,
                    mtime_ns: i,
                },
            };
            cache
                .put_result(&id, Some("same-content"), "model", "{}")
                .unwrap();
        }
    }
    let without = dir.path().join("without.sqlite");
    std::fs::copy(&with, &without).unwrap();
    rusqlite::Connection::open(&without)
        .unwrap()
        .execute_batch("DROP INDEX results_content")
        .unwrap();
    let mut g = c.benchmark_group("moved_result_20k_copies");
    g.sample_size(10);
    for (name, path) in [("content_index", &with), ("size_index_only", &without)] {
        // (opened read-write without recreating the index: a raw connection)
        let conn = rusqlite::Connection::open(path).unwrap();
        g.bench_function(name, |b| {
            b.iter(|| {
                let found: Option<String> = conn
                    .query_row(
                        "SELECT path FROM results WHERE size = ?1 AND content_sha256 = ?2
                         AND model_sha256 = ?3 ORDER BY time DESC LIMIT 1",
                        rusqlite::params![4_242_424, "same-content", "model"],
                        |r| {
                            r.get::<_, Vec<u8>>(0)
                                .map(|p| String::from_utf8_lossy(&p).into())
                        },
                    )
                    .ok();
                assert!(found.is_some());
            })
        });
    }
    g.finish();
}

criterion_group!(benches, moved_result_lookup);
criterion_main!(benches);
