//! The library as a tree of folders and audio files, filled by a background
//! scan (walkdir) so a front end can show the first entries at once and the
//! scan's progress while it runs. Engine side: no UI types here.
//!
//! The scan thread assigns node ids in walk order (parents before children,
//! each folder's entries sorted folders first, then by name), so applying its
//! batches in order needs no path look-ups and the tree stays a flat `Vec`.

mod inspect;
mod scan;

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use crate::audio::SourceInfo;
use crate::tags::TagSummary;

pub use inspect::inspect_file;
pub use scan::{ScanHandle, scan, spawn_scan};

pub type NodeId = u32;

/// The root folder is always node 0.
pub const ROOT: NodeId = 0;

#[derive(Debug, Clone)]
pub struct Node {
    pub name: OsString,
    /// The lossy name as the filter compares it ([`crate::text::search_key`]).
    pub lower: String,
    pub parent: Option<NodeId>,
    pub depth: u16,
    pub kind: NodeKind,
}

#[derive(Debug, Clone)]
pub enum NodeKind {
    Dir(DirNode),
    File(FileCheck),
    /// An entry that could not be read at all (dangling link, symlink loop, …).
    Broken {
        reason: String,
    },
}

#[derive(Debug, Clone, Default)]
pub struct DirNode {
    pub children: Vec<NodeId>,
    /// Audio files anywhere below.
    pub audio: u32,
    /// Files below found broken by an inspection, plus broken entries.
    pub bad: u32,
    /// Audio files below inspected so far: `bad` is final once this reaches
    /// `audio` and the scan is done.
    pub checked: u32,
    /// Why the folder's contents could not be listed.
    pub error: Option<String>,
}

/// What is known about an audio file beyond its name.
#[derive(Debug, Clone, Default)]
pub enum FileCheck {
    #[default]
    Unchecked,
    Done(Box<Inspection>),
}

/// A tree scanned again, with each file's size and mtime as the scan found
/// it (indexed by node; None for folders and files that cannot be read).
#[derive(Debug)]
pub struct Rescan {
    pub tree: Tree,
    pub keys: Vec<Option<crate::cache::FileKey>>,
    /// Each file's inode number (None for folders and where unknown).
    pub inos: Vec<Option<u64>>,
}

/// Everything a front end shows about one file; produced off the UI thread by
/// [`inspect_file`].
#[derive(Debug, Clone, PartialEq)]
pub struct Inspection {
    pub info: Result<SourceInfo, String>,
    pub tags: Result<TagSummary, String>,
    /// Set when the file opened but looks damaged (truncated, undecodable).
    pub problem: Option<String>,
    /// The file's size and mtime as inspected (None when it cannot be read):
    /// what a classification result is checked against.
    pub key: Option<crate::cache::FileKey>,
    /// Its inode number as inspected: a file renamed or moved within one
    /// file system keeps it, a file replaced by another does not.
    pub ino: Option<u64>,
}

impl Inspection {
    /// The file was moved or deleted after the scan listed it.
    pub fn gone() -> Inspection {
        const GONE: &str = "not found: moved or deleted since the folder was read";
        Inspection {
            info: Err(GONE.into()),
            tags: Err(GONE.into()),
            problem: None,
            key: None,
            ino: None,
        }
    }

    /// Why the file cannot be played as it is, if it cannot.
    pub fn fault(&self) -> Option<&str> {
        match &self.info {
            Err(e) => Some(e),
            Ok(_) => self.problem.as_deref(),
        }
    }
}

impl Node {
    pub fn is_dir(&self) -> bool {
        matches!(self.kind, NodeKind::Dir(_))
    }

    pub fn is_file(&self) -> bool {
        matches!(self.kind, NodeKind::File(_))
    }

    pub fn dir(&self) -> Option<&DirNode> {
        match &self.kind {
            NodeKind::Dir(d) => Some(d),
            _ => None,
        }
    }

    pub fn inspection(&self) -> Option<&Inspection> {
        match &self.kind {
            NodeKind::File(FileCheck::Done(i)) => Some(i),
            _ => None,
        }
    }

    /// A one-line reason when this entry is unusable (unreadable folder,
    /// broken entry, corrupt file).
    pub fn fault(&self) -> Option<&str> {
        match &self.kind {
            NodeKind::Dir(d) => d.error.as_deref(),
            NodeKind::Broken { reason } => Some(reason),
            NodeKind::File(FileCheck::Done(i)) => i.fault(),
            NodeKind::File(FileCheck::Unchecked) => None,
        }
    }

    pub fn label(&self) -> std::borrow::Cow<'_, str> {
        crate::library::without_controls(crate::library::shown(&self.name))
    }
}

/// Progress of the scan that fills a tree.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ScanProgress {
    pub dirs: u64,
    pub files: u64,
    /// Folders that could not be opened (broken links and loops are "bad"
    /// entries of their folder instead).
    pub errors: u64,
    pub done: bool,
    pub elapsed: Duration,
}

/// One new entry or finding, in walk order.
#[derive(Debug, Clone, PartialEq)]
pub enum ScanEntry {
    /// A new node; its id is the next free one.
    Dir {
        parent: NodeId,
        name: OsString,
    },
    Audio {
        parent: NodeId,
        name: OsString,
    },
    Broken {
        parent: NodeId,
        name: OsString,
        reason: String,
    },
    /// The contents of an existing folder could not be listed.
    DirError {
        dir: NodeId,
        reason: String,
    },
}

/// What the scan thread sends: entries found since the last batch, and the totals so far.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanBatch {
    pub entries: Vec<ScanEntry>,
    pub progress: ScanProgress,
}

#[derive(Debug, Clone)]
pub struct Tree {
    root: PathBuf,
    nodes: Vec<Node>,
    progress: ScanProgress,
}

impl Tree {
    /// An empty tree for `root`; fill it with [`Tree::apply`].
    pub fn new(root: impl Into<PathBuf>) -> Tree {
        let root = root.into();
        let name = root
            .file_name()
            .map(OsStr::to_os_string)
            .unwrap_or_else(|| root.as_os_str().to_os_string());
        Tree {
            nodes: vec![Node {
                lower: String::new(),
                name,
                parent: None,
                depth: 0,
                kind: NodeKind::Dir(DirNode::default()),
            }],
            root,
            progress: ScanProgress::default(),
        }
    }

    /// Scan `root` on this thread and return the complete tree.
    pub fn scan_blocking(root: impl Into<PathBuf>) -> Tree {
        let mut tree = Tree::new(root);
        let root = tree.root.clone();
        let mut batches = Vec::new();
        scan(&root, &AtomicBool::new(false), |b| {
            batches.push(b);
            true
        });
        for b in batches {
            tree.apply(b);
        }
        tree
    }

    /// Scan `root` again on this thread, noting each file's size and mtime
    /// as found: what was known of a file that did not change can be kept
    /// ([`Tree::keep_inspection`]) instead of read again.
    pub fn rescan_blocking(root: impl Into<PathBuf>) -> Rescan {
        let tree = Tree::scan_blocking(root);
        let keys = (0..tree.len() as NodeId)
            .map(|id| {
                if !tree.node(id).is_file() {
                    return None;
                }
                // as an inspection keys it, so the two compare
                crate::cache::file_key(&tree.path(id)).ok()
            })
            .collect();
        let inos = (0..tree.len() as NodeId)
            .map(|id| {
                tree.node(id)
                    .is_file()
                    .then(|| inspect::inode(&tree.path(id)))
                    .flatten()
            })
            .collect();
        Rescan { tree, keys, inos }
    }

    /// Where each of `earlier`'s nodes is in this tree (a rescan of the same
    /// root), by name under the same folder: index by the earlier id, None
    /// for what is gone. Matched folder by folder, so no path is built (a
    /// path per node, hashed, cost a 100 000-file library's UI 130 ms).
    pub fn same_nodes_as(&self, earlier: &Tree) -> Vec<Option<NodeId>> {
        let mut map = vec![None; earlier.len()];
        if let Some(root) = map.first_mut() {
            *root = Some(ROOT);
        }
        let mut pairs = vec![(ROOT, ROOT)];
        while let Some((old_dir, new_dir)) = pairs.pop() {
            let mine: std::collections::HashMap<&OsStr, NodeId> = self
                .children(new_dir)
                .iter()
                .map(|&c| (self.node(c).name.as_os_str(), c))
                .collect();
            for &old in earlier.children(old_dir) {
                let old_node = earlier.node(old);
                let Some(&new) = mine.get(old_node.name.as_os_str()) else {
                    continue;
                };
                // a file that became a folder (or back) is another entry
                if old_node.is_dir() != self.node(new).is_dir() {
                    continue;
                }
                map[old as usize] = Some(new);
                if old_node.is_dir() {
                    pairs.push((old, new));
                }
            }
        }
        map
    }

    /// Files of `earlier` that [`Tree::same_nodes_as`] did not find by name,
    /// found again by their inode, size and mtime (a rename or a move within
    /// the file system, by `mv` or a tagger, keeps all three; a file put in
    /// another's place with the same size and `touch -r` does not keep the
    /// inode; `keys` and `inos` are this tree's, as the rescan read them):
    /// a key held by exactly one lost file and one unmatched file here pairs
    /// them in `map`. Returns how many were paired.
    pub fn match_moved_files(
        &self,
        earlier: &Tree,
        earlier_ids: &[Option<(crate::cache::FileKey, u64)>],
        map: &mut [Option<NodeId>],
        keys: &[Option<crate::cache::FileKey>],
        inos: &[Option<u64>],
    ) -> usize {
        use std::collections::HashMap;
        type Key = (crate::cache::FileKey, u64);
        // (how many hold the key, the last one seen): only count 1 pairs
        fn note(by_key: &mut HashMap<Key, (u32, NodeId)>, key: Key, id: NodeId) {
            let e = by_key.entry(key).or_insert((0, id));
            e.0 += 1;
            e.1 = id;
        }
        let mut lost = HashMap::new();
        for old in earlier.files() {
            if map[old as usize].is_some() {
                continue;
            }
            // as read by its inspection, else as the last scan found it (a
            // file renamed before it was ever shown)
            let inspected = earlier
                .node(old)
                .inspection()
                .and_then(|i| i.key.zip(i.ino));
            let scanned = earlier_ids.get(old as usize).copied().flatten();
            if let Some(id) = inspected.or(scanned) {
                note(&mut lost, id, old);
            }
        }
        if lost.is_empty() {
            return 0;
        }
        let mut taken = vec![false; self.len()];
        for &new in map.iter().flatten() {
            taken[new as usize] = true;
        }
        let mut found = HashMap::new();
        for new in self.files().filter(|&f| !taken[f as usize]) {
            if let (Some(&Some(key)), Some(&Some(ino))) =
                (keys.get(new as usize), inos.get(new as usize))
            {
                note(&mut found, (key, ino), new);
            }
        }
        let mut paired = 0;
        for (key, (n, old)) in lost {
            if let Some(&(1, new)) = found.get(&key).filter(|_| n == 1) {
                map[old as usize] = Some(new);
                paired += 1;
            }
        }
        paired
    }

    /// Keep an earlier tree's inspection of file `id` when the file is the
    /// version it describes (`now`: its size and mtime at the rescan).
    pub fn keep_inspection(
        &mut self,
        id: NodeId,
        earlier: &Inspection,
        now: Option<crate::cache::FileKey>,
    ) {
        if earlier.key.is_some() && earlier.key == now {
            self.set_inspection(id, earlier.clone());
        }
    }

    pub fn root_path(&self) -> &Path {
        &self.root
    }

    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.nodes.len() <= 1
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id as usize]
    }

    pub fn get(&self, id: NodeId) -> Option<&Node> {
        self.nodes.get(id as usize)
    }

    pub fn nodes(&self) -> &[Node] {
        &self.nodes
    }

    pub fn progress(&self) -> ScanProgress {
        self.progress
    }

    pub fn children(&self, id: NodeId) -> &[NodeId] {
        self.node(id).dir().map_or(&[], |d| &d.children)
    }

    /// Add a batch from the scan thread.
    pub fn apply(&mut self, batch: ScanBatch) {
        for entry in batch.entries {
            match entry {
                ScanEntry::Dir { parent, name } => {
                    self.push(parent, name, NodeKind::Dir(DirNode::default()));
                }
                ScanEntry::Audio { parent, name } => {
                    self.push(parent, name, NodeKind::File(FileCheck::Unchecked));
                    self.bump_ancestors(parent, |d| d.audio += 1);
                }
                ScanEntry::Broken {
                    parent,
                    name,
                    reason,
                } => {
                    self.push(parent, name, NodeKind::Broken { reason });
                    self.bump_ancestors(parent, |d| d.bad += 1);
                }
                ScanEntry::DirError { dir, reason } => {
                    if let Some(NodeKind::Dir(d)) =
                        self.nodes.get_mut(dir as usize).map(|n| &mut n.kind)
                    {
                        d.error = Some(reason);
                    }
                }
            }
        }
        self.progress = batch.progress;
    }

    fn push(&mut self, parent: NodeId, name: OsString, kind: NodeKind) {
        let id = self.nodes.len() as NodeId;
        let Some(p) = self.nodes.get_mut(parent as usize) else {
            return;
        };
        let depth = p.depth + 1;
        let NodeKind::Dir(pd) = &mut p.kind else {
            return;
        };
        pd.children.push(id);
        self.nodes.push(Node {
            lower: crate::text::search_key(&name.to_string_lossy()),
            name,
            parent: Some(parent),
            depth,
            kind,
        });
    }

    fn bump_ancestors(&mut self, from: NodeId, f: impl Fn(&mut DirNode)) {
        let mut cur = Some(from);
        while let Some(id) = cur {
            let node = &mut self.nodes[id as usize];
            if let NodeKind::Dir(d) = &mut node.kind {
                f(d);
            }
            cur = node.parent;
        }
    }

    /// Record an inspection; a faulty file counts as bad in every folder above it.
    pub fn set_inspection(&mut self, id: NodeId, inspection: Inspection) {
        let Some(node) = self.nodes.get_mut(id as usize) else {
            return;
        };
        let NodeKind::File(check) = &mut node.kind else {
            return;
        };
        let first = matches!(check, FileCheck::Unchecked);
        let was_bad = matches!(check, FileCheck::Done(i) if i.fault().is_some());
        let is_bad = inspection.fault().is_some();
        *check = FileCheck::Done(Box::new(inspection));
        let parent = node.parent.unwrap_or(ROOT);
        if first {
            self.bump_ancestors(parent, |d| d.checked += 1);
        }
        match (was_bad, is_bad) {
            (false, true) => self.bump_ancestors(parent, |d| d.bad += 1),
            (true, false) => self.bump_ancestors(parent, |d| d.bad = d.bad.saturating_sub(1)),
            _ => {}
        }
    }

    /// The file system path of a node.
    pub fn path(&self, id: NodeId) -> PathBuf {
        let mut path = self.root.clone();
        path.push(self.rel_path(id));
        path
    }

    /// The path of a node relative to the root (empty for the root).
    pub fn rel_path(&self, id: NodeId) -> PathBuf {
        let mut names = Vec::new();
        let mut cur = id;
        while let Some(parent) = self.node(cur).parent {
            names.push(&self.node(cur).name);
            cur = parent;
        }
        names.iter().rev().collect()
    }

    /// Audio files in walk order (the order a listing shows them in).
    pub fn files(&self) -> impl Iterator<Item = NodeId> + '_ {
        // Ids are assigned in walk order, so id order is display order.
        (0..self.nodes.len() as NodeId).filter(|&id| self.node(id).is_file())
    }

    /// Audio files under folder `dir`, at any depth, in listing order.
    pub fn files_under(&self, dir: NodeId) -> Vec<NodeId> {
        let mut out = Vec::new();
        let mut stack = vec![dir];
        while let Some(d) = stack.pop() {
            for &c in self.children(d) {
                match &self.node(c).kind {
                    NodeKind::Dir(_) => stack.push(c),
                    NodeKind::File(_) => out.push(c),
                    NodeKind::Broken { .. } => {}
                }
            }
        }
        // ids are assigned in walk order: id order is listing order
        out.sort_unstable();
        out
    }

    /// Which nodes a filter keeps: files (and broken entries) whose name, or an
    /// enclosing folder's name, contains every whitespace-separated term
    /// (case-insensitive), and the folders leading to them. `None` for an
    /// empty query.
    pub fn filter(&self, query: &str) -> Option<Vec<bool>> {
        let terms: Vec<String> = query
            .split_whitespace()
            .map(crate::text::search_key)
            .take(64)
            .collect();
        if terms.is_empty() {
            return None;
        }
        let all: u64 = if terms.len() == 64 {
            u64::MAX
        } else {
            (1u64 << terms.len()) - 1
        };
        // Parents precede children, so one forward pass propagates matched terms down…
        let mut matched = vec![0u64; self.nodes.len()];
        for (i, node) in self.nodes.iter().enumerate().skip(1) {
            let mut m = node.parent.map_or(0, |p| matched[p as usize]);
            for (t, term) in terms.iter().enumerate() {
                if m & (1 << t) == 0 && node.lower.contains(term.as_str()) {
                    m |= 1 << t;
                }
            }
            matched[i] = m;
        }
        // …and one backward pass makes every folder holding a hit visible.
        let mut keep = vec![false; self.nodes.len()];
        for i in (1..self.nodes.len()).rev() {
            let node = &self.nodes[i];
            if !node.is_dir() && matched[i] == all {
                keep[i] = true;
            }
            if keep[i]
                && let Some(p) = node.parent
            {
                keep[p as usize] = true;
            }
        }
        keep[ROOT as usize] = true;
        Some(keep)
    }

    /// Files a filter mask keeps at or below each node (a file: 1 or 0), for
    /// folder rows' counts under a filter.
    pub fn kept_files(&self, keep: &[bool]) -> Vec<u32> {
        let mut n = vec![0u32; self.nodes.len()];
        // Children follow their parents: a backward pass sums them up.
        for i in (1..self.nodes.len()).rev() {
            let node = &self.nodes[i];
            if !node.is_dir() && keep.get(i).copied().unwrap_or(false) {
                n[i] += 1;
            }
            if let Some(p) = node.parent {
                n[p as usize] += n[i];
            }
        }
        n
    }

    /// The rows a listing shows: children of expanded folders (depth-first),
    /// or, under a filter, every kept node whatever is expanded.
    pub fn visible_rows(&self, expanded: &[bool], keep: Option<&[bool]>) -> Vec<NodeId> {
        let mut rows = Vec::new();
        let mut stack: Vec<(NodeId, usize)> = vec![(ROOT, 0)];
        while let Some((dir, next)) = stack.pop() {
            let children = self.children(dir);
            let mut i = next;
            while i < children.len() {
                let child = children[i];
                i += 1;
                if keep.is_some_and(|k| !k[child as usize]) {
                    continue;
                }
                rows.push(child);
                let open = match keep {
                    Some(_) => true,
                    None => expanded.get(child as usize).copied().unwrap_or(false),
                };
                if open && !self.children(child).is_empty() {
                    stack.push((dir, i));
                    stack.push((child, 0));
                    break;
                }
            }
        }
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(p: &Path) {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, b"x").unwrap();
    }

    /// A rescan's nodes are found by where they are: kept, gone, renamed
    /// (gone, and new under the new name), a file that became a folder.
    #[test]
    fn a_rescans_nodes_are_matched_by_folder_and_name() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for f in ["A/1.mp3", "A/2.mp3", "B/3.mp3", "B/C/4.mp3", "x.mp3"] {
            touch(&root.join(f));
        }
        let before = Tree::scan_blocking(root);
        std::fs::remove_file(root.join("A/2.mp3")).unwrap();
        std::fs::rename(root.join("B"), root.join("B2")).unwrap();
        std::fs::remove_file(root.join("x.mp3")).unwrap();
        touch(&root.join("x.mp3/inner.mp3"));
        touch(&root.join("A/0.mp3"));
        let after = Tree::scan_blocking(root);
        let map = after.same_nodes_as(&before);
        let find = |t: &Tree, rel: &str| {
            (0..t.len() as NodeId).find(|&id| t.rel_path(id) == Path::new(rel))
        };
        let to = |rel: &str| map[find(&before, rel).unwrap() as usize];
        assert_eq!(to("A/1.mp3"), find(&after, "A/1.mp3"));
        assert_eq!(to("A"), find(&after, "A"));
        assert_eq!(to("A/2.mp3"), None);
        assert_eq!(to("B/C/4.mp3"), None, "its folder was renamed");
        assert_eq!(to("x.mp3"), None, "a file that became a folder");
        assert_eq!(map[ROOT as usize], Some(ROOT));
        let mapped = map.iter().flatten().count();
        assert_eq!(mapped, 3, "the root, A and A/1.mp3: {map:?}");
    }

    /// Files moved or renamed (same inode, size and mtime) are found again,
    /// twins of one size and mtime each as itself; a file deleted and
    /// another given its size and mtime is not taken for it.
    #[test]
    fn moved_files_are_matched_by_inode_size_and_mtime() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |rel: &str, bytes: &[u8]| {
            let p = root.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, bytes).unwrap();
        };
        write("A/moved.mp3", b"one");
        write("A/renamed.mp3", b"two two");
        write("A/twin1.mp3", b"same");
        write("A/twin2.mp3", b"same");
        write("A/deleted.mp3", b"three three");
        write("A/stays.mp3", b"four");
        write("A/replaced.mp3", b"six six");
        write("A/unseen.mp3", b"seven, never shown");
        let Rescan {
            tree: mut before,
            keys: scanned_keys,
            inos: scanned_inos,
        } = Tree::rescan_blocking(root);
        // what the last scan found of each file, for those never inspected
        let earlier_ids: Vec<_> = scanned_keys
            .into_iter()
            .zip(scanned_inos)
            .map(|(k, i)| k.zip(i))
            .collect();
        for f in before.files().collect::<Vec<_>>() {
            if before.node(f).label() != "unseen.mp3" {
                let inspection = inspect_file(&before.path(f));
                before.set_inspection(f, inspection);
            }
        }
        // the twins share a key only if their mtimes agree to the ns: make sure
        let t = std::fs::metadata(root.join("A/twin1.mp3"))
            .unwrap()
            .modified()
            .unwrap();
        let set = |rel: &str| {
            let f = std::fs::File::options()
                .write(true)
                .open(root.join(rel))
                .unwrap();
            f.set_modified(t).unwrap();
        };
        set("A/twin2.mp3");
        let twin2 = before
            .files()
            .find(|&f| before.node(f).label() == "twin2.mp3")
            .unwrap();
        let inspection = inspect_file(&before.path(twin2));
        before.set_inspection(twin2, inspection);

        std::fs::create_dir(root.join("B")).unwrap();
        for (from, to) in [
            ("A/moved.mp3", "B/moved.mp3"),
            ("A/renamed.mp3", "A/new name.mp3"),
            ("A/twin1.mp3", "B/twin1.mp3"),
            ("A/twin2.mp3", "B/twin2.mp3"),
            ("A/unseen.mp3", "B/unseen renamed.mp3"),
        ] {
            std::fs::rename(root.join(from), root.join(to)).unwrap();
        }
        std::fs::remove_file(root.join("A/deleted.mp3")).unwrap();
        write("A/fresh.mp3", b"five");
        // a file deleted, another of its size given its mtime (`touch -r`)
        // under a new name: not a move, the inode says so (made before the
        // delete, so that it cannot reuse the inode)
        let was = std::fs::metadata(root.join("A/replaced.mp3")).unwrap();
        write("A/impostor.mp3", b"SIX SIX");
        std::fs::File::options()
            .write(true)
            .open(root.join("A/impostor.mp3"))
            .unwrap()
            .set_modified(was.modified().unwrap())
            .unwrap();
        std::fs::remove_file(root.join("A/replaced.mp3")).unwrap();
        let Rescan {
            tree: after,
            keys,
            inos,
        } = Tree::rescan_blocking(root);
        let mut map = after.same_nodes_as(&before);
        let paired = after.match_moved_files(&before, &earlier_ids, &mut map, &keys, &inos);
        let find = |t: &Tree, rel: &str| {
            (0..t.len() as NodeId).find(|&id| t.rel_path(id) == Path::new(rel))
        };
        let to = |rel: &str| map[find(&before, rel).unwrap() as usize];
        assert_eq!(paired, 5, "{map:?}");
        assert_eq!(
            to("A/unseen.mp3"),
            find(&after, "B/unseen renamed.mp3"),
            "never inspected: known by the last scan"
        );
        assert_eq!(to("A/moved.mp3"), find(&after, "B/moved.mp3"));
        assert_eq!(to("A/renamed.mp3"), find(&after, "A/new name.mp3"));
        assert_eq!(to("A/stays.mp3"), find(&after, "A/stays.mp3"));
        // one size and mtime, two files: their inodes tell them apart
        assert_eq!(to("A/twin1.mp3"), find(&after, "B/twin1.mp3"));
        assert_eq!(to("A/twin2.mp3"), find(&after, "B/twin2.mp3"));
        assert_eq!(to("A/deleted.mp3"), None);
        assert_eq!(
            to("A/replaced.mp3"),
            None,
            "the same size and mtime, another file"
        );
    }

    #[test]
    fn scan_lists_folders_first_and_counts_audio() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("b.mp3"));
        touch(&root.join("a.txt"));
        touch(&root.join("z/x.flac"));
        touch(&root.join("z/deep/y.ogg"));
        touch(&root.join(".hidden/h.mp3"));
        std::fs::create_dir_all(root.join("empty")).unwrap();
        let tree = Tree::scan_blocking(root);
        let names: Vec<String> = tree
            .children(ROOT)
            .iter()
            .map(|&c| tree.node(c).label().into())
            .collect();
        assert_eq!(names, ["empty", "z", "b.mp3"]);
        assert_eq!(tree.node(ROOT).dir().unwrap().audio, 3);
        let z = tree.children(ROOT)[1];
        assert_eq!(tree.node(z).dir().unwrap().audio, 2);
        assert!(tree.progress().done);
        assert_eq!(tree.progress().files, 3);
        let y = tree
            .files()
            .find(|&f| tree.node(f).label() == "y.ogg")
            .unwrap();
        assert_eq!(tree.rel_path(y), Path::new("z/deep/y.ogg"));
        assert_eq!(tree.path(y), root.join("z/deep/y.ogg"));
    }

    #[test]
    fn rows_follow_expansion_and_filter() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("rock/one.mp3"));
        touch(&root.join("rock/two.mp3"));
        touch(&root.join("jazz/three.mp3"));
        let tree = Tree::scan_blocking(root);
        let mut expanded = vec![false; tree.len()];
        assert_eq!(tree.visible_rows(&expanded, None).len(), 2);
        let rock = tree.children(ROOT)[1];
        expanded[rock as usize] = true;
        assert_eq!(tree.visible_rows(&expanded, None).len(), 4);
        let keep = tree.filter("TWO").unwrap();
        let rows = tree.visible_rows(&expanded, Some(&keep));
        let labels: Vec<String> = rows.iter().map(|&r| tree.node(r).label().into()).collect();
        assert_eq!(labels, ["rock", "two.mp3"]);
        // Folder rows count the files the filter keeps below them.
        let kept = tree.kept_files(&keep);
        let jazz = tree.children(ROOT)[0];
        assert_eq!(
            (
                kept[ROOT as usize],
                kept[rock as usize],
                kept[jazz as usize]
            ),
            (1, 1, 0)
        );
        let keep = tree.filter(".mp3").unwrap();
        let kept = tree.kept_files(&keep);
        assert_eq!(
            (
                kept[ROOT as usize],
                kept[rock as usize],
                kept[jazz as usize]
            ),
            (3, 2, 1)
        );
        // Terms may match a folder name and a file name.
        let keep = tree.filter("rock one").unwrap();
        assert_eq!(tree.visible_rows(&expanded, Some(&keep)).len(), 2);
        let keep = tree.filter("nothing").unwrap();
        assert!(tree.visible_rows(&expanded, Some(&keep)).is_empty());
        assert!(tree.filter("  ").is_none());
    }

    #[test]
    fn missing_root_is_reported_not_fatal() {
        let tree = Tree::scan_blocking("/definitely/not/here");
        assert_eq!(tree.node(ROOT).fault(), Some("no such file or directory"));
        assert!(tree.progress().done);
    }

    #[cfg(unix)]
    #[test]
    fn symlink_loops_and_dangling_links_show_as_broken() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        touch(&root.join("a/ok.mp3"));
        std::os::unix::fs::symlink(root.join("a"), root.join("a/loop")).unwrap();
        std::os::unix::fs::symlink(root.join("gone.mp3"), root.join("dangling.mp3")).unwrap();
        std::os::unix::fs::symlink(root.join("gone.jpg"), root.join("cover.jpg")).unwrap();
        let tree = Tree::scan_blocking(root);
        let broken: Vec<(String, String)> = tree
            .nodes()
            .iter()
            .filter_map(|n| match &n.kind {
                NodeKind::Broken { reason } => Some((n.label().into(), reason.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(broken.len(), 2, "{broken:?}");
        assert!(
            broken
                .iter()
                .any(|(n, r)| n == "loop" && r == "symlink loop back to a/")
        );
        assert!(broken.iter().any(|(n, _)| n == "dangling.mp3"));
        assert_eq!(tree.node(ROOT).dir().unwrap().bad, 2);
        // Bad entries, not also unreadable folders: each counts once.
        assert_eq!(tree.progress().errors, 0);
    }

    #[test]
    fn inspecting_a_picture_named_mp3_flags_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("fake.mp3");
        let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
        png.extend_from_slice(&[0u8; 64]);
        std::fs::write(&p, png).unwrap();
        let i = inspect_file(&p);
        let fault = i.fault().unwrap();
        assert!(fault.contains("not an audio file"), "{fault}");
        assert!(!fault.contains(&*dir.path().to_string_lossy()), "{fault}");
    }

    /// A file deleted after the scan is gone, not damaged: its tags line does
    /// not blame the tags (lofty says "failed to parse file").
    #[test]
    fn inspecting_a_file_deleted_since_the_scan_says_it_is_gone() {
        let dir = tempfile::tempdir().unwrap();
        let i = inspect_file(&dir.path().join("song10.ogg"));
        let gone = "not found: moved or deleted since the folder was read";
        assert_eq!(i.fault(), Some(gone));
        assert_eq!(i.tags.unwrap_err(), gone);
    }
}
