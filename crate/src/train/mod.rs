//! Training of a Sequential model of dense layers: the forward pass that keeps each layer's
//! pre-activation, the losses and their output gradients, backpropagation through the same GEMM
//! as inference, the optimizers, and the one call that runs a whole step (`step`).
//!
//! Gradients and optimizer state live in the packed panel layout of the weights (bias as each
//! panel's row 0, padding columns zero), so an update is one flat loop over `packed_len` floats.
mod backward;
mod forward_train;
mod loss;
mod optimizer;
mod step;

pub use step::{run, scratch_len};
