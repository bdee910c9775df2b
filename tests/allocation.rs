//! The hot steps allocate nothing: a counting global allocator (per thread, so parallel
//! tests do not interfere) around one optimizer step of every plateau model.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use stuck::landscape::{DeepLinearNet, Initialisation, Objective, SoftCommittee};
use stuck::mc::chunk_stream;
use stuck::optim::{Method, Optimizer, OptimizerConfig};

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards to the system allocator; the counter is a const-initialised thread-local
// without a destructor, so touching it never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_during(mut f: impl FnMut()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn plateau_model_steps_do_not_allocate() {
    // The counter sees allocations (otherwise the zeros below would prove nothing).
    assert_eq!(
        allocations_during(|| {
            std::hint::black_box(vec![0u8; 16]);
        }),
        1
    );
    let mut rng = chunk_stream(1, "allocation", 0, 0);
    let net = DeepLinearNet::teacher(6, 4, 1.0, 36, &mut rng);
    for method in [
        Method::Gd,
        Method::Sgd { batch: 4 },
        Method::Momentum { beta: 0.9 },
    ] {
        let config = OptimizerConfig {
            method,
            learning_rate: 0.01,
            clip: None,
        };
        let mut optimizer = Optimizer::new(config, net.dimension(), net.examples());
        let mut theta = vec![0.0; net.dimension()];
        net.initialise(Initialisation::Gaussian, 1e-2, &mut theta, &mut rng);
        optimizer.step(&net, &mut theta, &mut rng);
        let count = allocations_during(|| {
            for _ in 0..100 {
                optimizer.step(&net, &mut theta, &mut rng);
                std::hint::black_box(net.value(&theta));
            }
        });
        assert_eq!(count, 0, "{method:?}");
    }
    let mut machine = SoftCommittee::new(64, 3, 3, 0.1, &mut rng);
    let count = allocations_during(|| {
        for _ in 0..100 {
            machine.step(0.5, &mut rng);
        }
        std::hint::black_box(machine.generalisation_error());
    });
    assert_eq!(count, 0);
}
