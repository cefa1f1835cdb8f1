"""The Playground's two problem types. What their output layer computes is a head's business
(``courseware_builtins.heads``): tanh for classification, linear for regression."""

from courseware import Problem, hookimpl


@hookimpl
def register_problems(register):
    register(
        Problem(
            name="classification",
            label="Classification",
            num_samples=500,
            dataset_field="dataset",
            default_dataset="circle",
            classifies=True,
            default=True,
            description="Points of two or more classes: +1 (blue) and -1 (orange), or classes 0, 1, 2, ...",
        )
    )
    register(
        Problem(
            name="regression",
            label="Regression",
            num_samples=1200,
            dataset_field="regDataset",
            default_dataset="reg-plane",
            classifies=False,
            description="A real-valued target.",
        )
    )
