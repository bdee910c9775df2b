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

/// A network's training steps (full batch and real minibatches, through the optimizer) and
/// its Hessian-vector products, with and without batch normalisation, allocate nothing after the first call (faer's GEMMs run
/// sequentially on the workspace's buffers).
#[test]
fn network_steps_and_hessian_vector_products_do_not_allocate() {
    use stuck::nets::{Activation, Dataset, Loss, Mlp, NetObjective};
    let split = Dataset::iris().split(0.2, &mut chunk_stream(1, "allocation", 1, 0));
    let data = split.train;
    let plain = Mlp::new(&[4, 8, 3], Activation::Tanh, Loss::CrossEntropy, 1e-3);
    for net in [plain.clone(), plain.with_batch_norm(1e-5)] {
        let mut rng = chunk_stream(2, "allocation", 1, 0);
        for method in [
            Method::Gd,
            Method::Sgd { batch: 16 },
            Method::Momentum { beta: 0.9 },
        ] {
            let objective = NetObjective::new(&net, &data);
            let config = OptimizerConfig {
                method,
                learning_rate: 0.1,
                clip: None,
            };
            let mut optimizer = Optimizer::new(config, net.parameters(), data.examples());
            let mut theta = net.initialise(1.0, &mut rng);
            optimizer.step(&objective, &mut theta, &mut rng);
            let count = allocations_during(|| {
                for _ in 0..50 {
                    optimizer.step(&objective, &mut theta, &mut rng);
                }
            });
            assert_eq!(count, 0, "{method:?}");
        }
        let theta = net.initialise(1.0, &mut rng);
        let v = net.initialise(1.0, &mut rng);
        let mut ws = net.workspace(data.examples());
        let (mut g, mut hv) = (vec![0.0; theta.len()], vec![0.0; theta.len()]);
        net.loss_and_gradient(&theta, &data, &mut ws, &mut g);
        net.hessian_vector(&theta, &data, &mut ws, &v, &mut hv);
        let count = allocations_during(|| {
            for _ in 0..50 {
                net.loss_and_gradient(&theta, &data, &mut ws, &mut g);
                net.hessian_vector(&theta, &data, &mut ws, &v, &mut hv);
            }
        });
        assert_eq!(count, 0, "{net:?}");
    }
}
