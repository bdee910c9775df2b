//! `--mpi`: one run spread over the ranks of an MPI job (through the `mpi` crate, rsmpi).
//!
//! Rank r of a job of size p runs shard `r+1/p` — the chunks whose merge-order ordinal is
//! r, r + p, r + 2p, … — with rayon threads inside the rank, exactly as `--shard` would.
//! The per-chunk accumulators are serialised and gathered to rank 0 (one `MPI_Gatherv` of
//! bytes), which folds them in chunk order with [`crate::mc::merge_shards`] and writes the
//! outputs once: the CSV is byte-identical to a single-process run with the same seed.
//!
//! Built only with the cargo feature `mpi`; without it, `--mpi` is a clear error.

use super::RunError;

/// This process's place in the MPI job.
#[cfg(feature = "mpi")]
pub struct MpiWorld {
    universe: mpi::environment::Universe,
}

#[cfg(feature = "mpi")]
impl MpiWorld {
    /// Initialises MPI (funneled: only the main thread calls MPI; rayon threads compute).
    pub fn initialize() -> Result<Self, RunError> {
        let (universe, _) = mpi::initialize_with_threading(mpi::Threading::Funneled)
            .ok_or_else(|| RunError::Mpi("MPI is already initialised".into()))?;
        Ok(MpiWorld { universe })
    }

    /// This rank, 0-based.
    pub fn rank(&self) -> u32 {
        use mpi::traits::Communicator;
        self.universe.world().rank() as u32
    }

    /// Number of ranks.
    pub fn size(&self) -> u32 {
        use mpi::traits::Communicator;
        self.universe.world().size() as u32
    }

    /// Gathers every rank's bytes on rank 0: `Some(bytes of rank 0, 1, …)` there, `None`
    /// elsewhere. Collective: every rank must call it.
    pub fn gather_to_root(&self, bytes: &[u8]) -> Result<Option<Vec<Vec<u8>>>, RunError> {
        use mpi::datatype::PartitionMut;
        use mpi::traits::{Communicator, Root};
        let world = self.universe.world();
        let root = world.process_at_rank(0);
        let length = mpi::Count::try_from(bytes.len())
            .map_err(|_| RunError::Mpi("a rank's results exceed 2 GiB".into()))?;
        if world.rank() != 0 {
            root.gather_into(&length);
            root.gather_varcount_into(bytes);
            return Ok(None);
        }
        let mut lengths = vec![0 as mpi::Count; world.size() as usize];
        root.gather_into_root(&length, &mut lengths[..]);
        let offsets: Vec<mpi::Count> = lengths
            .iter()
            .scan(0, |start, &n| {
                let here = *start;
                *start += n;
                Some(here)
            })
            .collect();
        let total: usize = lengths.iter().map(|&n| n as usize).sum();
        let mut buffer = vec![0u8; total];
        {
            let mut partition = PartitionMut::new(&mut buffer[..], &lengths[..], &offsets[..]);
            root.gather_varcount_into_root(bytes, &mut partition);
        }
        Ok(Some(
            lengths
                .iter()
                .zip(&offsets)
                .map(|(&n, &start)| buffer[start as usize..(start + n) as usize].to_vec())
                .collect(),
        ))
    }
}

/// Stand-in when the `mpi` feature is off: it has no values, so [`MpiWorld::initialize`]
/// is the only way in and always fails with a one-line explanation.
#[cfg(not(feature = "mpi"))]
pub enum MpiWorld {}

#[cfg(not(feature = "mpi"))]
impl MpiWorld {
    /// Always an error: this build has no MPI.
    pub fn initialize() -> Result<Self, RunError> {
        Err(RunError::Mpi(
            "this stuck was built without MPI; rebuild with `cargo build --release --features mpi` (needs an MPI library and libclang)".into(),
        ))
    }

    /// This rank (no value exists without MPI).
    pub fn rank(&self) -> u32 {
        match *self {}
    }

    /// Number of ranks (no value exists without MPI).
    pub fn size(&self) -> u32 {
        match *self {}
    }

    /// Gathers to rank 0 (no value exists without MPI).
    pub fn gather_to_root(&self, _bytes: &[u8]) -> Result<Option<Vec<Vec<u8>>>, RunError> {
        match *self {}
    }
}
