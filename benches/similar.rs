//! "Sounds like this": one brute-force cosine query over 100 000 cached
//! embeddings of the accurate model's size (200-d), on one thread. Target:
//! <= 20 ms per query. Also loading those 100 000 embeddings from SQLite
//! (done once per session).
//!
//!     cargo bench --bench similar
//!
//! The query is measured twice: wall-clock time (`similar_query_100k_200d_top10`,
//! what a user waits on an idle core) and the CPU time of the benchmark
//! thread (`similar_query_cpu`), which other processes competing for the
//! cores barely disturb.
#![allow(clippy::unwrap_used)] // a bench that cannot unwrap has failed

use std::hint::black_box;
use std::path::PathBuf;

use criterion::{Criterion, criterion_group, criterion_main};

#[path = "common/thread_cpu.rs"]
mod thread_cpu;
use earmark::cache::{Cache, FileKey, StoredEmbedding};
use earmark::vocab::SimilarityIndex;
use thread_cpu::ThreadCpuTime;

const N: usize = 100_000;
const DIM: usize = 200;

/// Deterministic pseudo-random embeddings (a small LCG; no rand dependency).
fn embeddings() -> Vec<Vec<f32>> {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    (0..N)
        .map(|_| {
            (0..DIM)
                .map(|_| {
                    state = state
                        .wrapping_mul(6_364_136_223_846_793_005)
                        .wrapping_add(1_442_695_040_888_963_407);
                    ((state >> 40) as f32 / (1u64 << 24) as f32) - 0.5
                })
                .collect()
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let vectors = embeddings();
    let mut index = SimilarityIndex::new(DIM);
    for v in &vectors {
        index.push(v);
    }
    let query = vectors[1234].clone();
    c.bench_function("similar_query_100k_200d_top10", |b| {
        b.iter(|| black_box(index.nearest(black_box(&query), 10, &[])))
    });

    let dir = tempfile::tempdir().unwrap();
    let cache = Cache::open(&dir.path().join("bench.sqlite")).unwrap();
    let key = FileKey {
        size: 1,
        mtime_ns: 1,
    };
    let items: Vec<StoredEmbedding> = vectors
        .iter()
        .enumerate()
        .map(|(i, v)| StoredEmbedding {
            path: PathBuf::from(format!("/music/album{}/track{i}.flac", i / 12)),
            key,
            vector: v.clone(),
        })
        .collect();
    cache.put_embeddings("bench-model", &items).unwrap();
    let mut group = c.benchmark_group("similar_load");
    group.sample_size(10);
    group.bench_function("load_100k_embeddings_from_sqlite", |b| {
        b.iter(|| {
            let all = cache.all_embeddings("bench-model").unwrap();
            let mut ix = SimilarityIndex::new(DIM);
            for e in &all {
                ix.push(&e.vector);
            }
            black_box(ix.len())
        })
    });
    group.finish();
}

/// The same query, in CPU time of this thread.
fn bench_cpu(c: &mut Criterion<ThreadCpuTime>) {
    let vectors = embeddings();
    let mut index = SimilarityIndex::new(DIM);
    for v in &vectors {
        index.push(v);
    }
    let query = vectors[1234].clone();
    c.bench_function("similar_query_cpu/100k_200d_top10", |b| {
        b.iter(|| black_box(index.nearest(black_box(&query), 10, &[])))
    });
}

criterion_group!(benches, bench);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpuTime);
    targets = bench_cpu
}
criterion_main!(benches, cpu);
