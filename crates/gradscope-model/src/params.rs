//! Walking a module's parameters: making lazy ones concrete, and collecting values and gradients
//! by stable path.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param, ParamId};
use burn::tensor::{Gradients, Tensor};

/// Initialises every parameter of `module` now.
///
/// burn initialises parameters lazily, on first use, so the order of random draws (and with it
/// the weights a seed gives) would depend on what touches them first. The built-in models draw
/// eagerly; calling this right after building any model, a user's included, makes equal seeds
/// give equal weights whatever runs next.
pub fn materialize_params<M: Module>(module: &M) {
    struct Touch;
    impl ModuleVisitor for Touch {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let _ = param.val();
        }
    }
    module.visit(&mut Touch);
}

/// Makes every float parameter of `module` a leaf of the autodiff graph, with its value as it is.
///
/// A parameter computed from another tensor when the model was built (a gate bias set with
/// `bias.map(|b| b.add_scalar(-4.0))`, say) keeps that computation as autodiff history, and a
/// training loop's second backward pass then finds the history already consumed. Training makes
/// its models' parameters leaves first, so any model built any way trains.
pub fn leaf_params<M: Module>(module: M) -> M {
    struct Leaf;
    impl ModuleMapper for Leaf {
        fn map_float<const D: usize>(&mut self, param: Param<Tensor<D>>) -> Param<Tensor<D>> {
            param.map(|t| t.detach().require_grad())
        }
    }
    module.map(&mut Leaf)
}

/// One float parameter, flattened, with its gradient if one was asked for and exists.
#[derive(Debug, Clone)]
pub struct CollectedParam {
    /// The parameter's id (stable within a process only: key records by path).
    pub id: ParamId,
    /// Path relative to where the walk started, such as `linears.0.weight`.
    pub path: String,
    /// Rank of the parameter tensor (2 for a weight matrix, 1 for a bias or a scale).
    pub rank: usize,
    /// The value, flattened, outside autodiff.
    pub value: Tensor<1>,
    /// The value with its shape kept (rank-2 parameters only), outside autodiff.
    pub matrix: Option<Tensor<2>>,
    /// ∂L/∂parameter, flattened; `None` when the parameter took no part in the loss or is not
    /// trainable (batch norm running statistics).
    pub grad: Option<Tensor<1>>,
}

/// A [`ModuleVisitor`] that collects float parameters with their paths (and gradients).
pub struct ParamCollector<'a> {
    path: Vec<String>,
    /// Whether to build each parameter's path (a string per parameter per call).
    paths: bool,
    grads: Option<&'a Gradients>,
    /// What was collected, in declaration order.
    pub params: Vec<CollectedParam>,
}

impl<'a> ParamCollector<'a> {
    /// A collector that also reads gradients from `grads` (without consuming them).
    pub fn new(grads: Option<&'a Gradients>) -> Self {
        Self {
            path: Vec::new(),
            paths: true,
            grads,
            params: Vec::new(),
        }
    }

    /// As [`ParamCollector::new`], but every path left empty: for callers that match parameters
    /// by id, many times a second (the recorder).
    pub fn unnamed(grads: Option<&'a Gradients>) -> Self {
        Self {
            paths: false,
            ..Self::new(grads)
        }
    }
}

/// `t` as a tensor of rank `B`, which it already is (`A == B`): the same tensor, retyped, with no
/// operation dispatched.
fn retype<const A: usize, const B: usize>(t: Tensor<A>) -> Tensor<B> {
    debug_assert_eq!(A, B);
    Tensor::from_dispatch(t.into_dispatch())
}

/// `t` flattened to rank 1 (a reshape only where it is not rank 1 already).
fn flat<const D: usize>(t: Tensor<D>) -> Tensor<1> {
    if D == 1 {
        retype::<D, 1>(t)
    } else {
        t.flatten::<1>(0, D - 1)
    }
}

impl ModuleVisitor for ParamCollector<'_> {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        if self.paths {
            self.path.push(name.to_string());
        }
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        if self.paths {
            self.path.pop();
        }
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let value = param.val();
        let grad = self
            .grads
            .and_then(|g| value.grad(g))
            .map(|g| flat(g.inner()));
        let inner = value.inner();
        let matrix = (D == 2).then(|| retype::<D, 2>(inner.clone()));
        self.params.push(CollectedParam {
            id: param.id,
            path: if self.paths {
                self.path.join(".")
            } else {
                String::new()
            },
            rank: D,
            value: flat(inner),
            matrix,
            grad,
        });
    }
}

/// Reads the gradients of `params`, collected from `module` without them (a [`ParamCollector`]
/// given no gradients): one walk that touches nothing but the gradients, so a caller can collect
/// the values before `backward()` and the gradients after it. Parameters are matched by id (the
/// same walk meets them in the same order); one the walk does not meet keeps `grad: None`.
pub fn read_grads<M: Module>(module: &M, params: &mut [CollectedParam], grads: &Gradients) {
    struct Reader<'a> {
        params: &'a mut [CollectedParam],
        next: usize,
        grads: &'a Gradients,
    }
    impl ModuleVisitor for Reader<'_> {
        fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
            let at = if self.params.get(self.next).is_some_and(|p| p.id == param.id) {
                Some(self.next)
            } else {
                self.params.iter().position(|p| p.id == param.id)
            };
            if let Some(i) = at {
                self.params[i].grad = param.val().grad(self.grads).map(|g| flat(g.inner()));
                self.next = i + 1;
            }
        }
    }
    module.visit(&mut Reader {
        params,
        next: 0,
        grads,
    });
}

/// Collects the parameters of `module` (and their gradients, if `grads` is given).
pub fn collect_params<M: Module>(module: &M, grads: Option<&Gradients>) -> Vec<CollectedParam> {
    let mut collector = ParamCollector::new(grads);
    module.visit(&mut collector);
    collector.params
}
