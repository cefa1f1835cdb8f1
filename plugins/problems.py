"""The Playground's two problem types."""

from courseware import Problem, hookimpl


@hookimpl
def register_problems(register):
    register(
        Problem(
            name="classification",
            label="Classification",
            output_activation="tanh",
            num_samples=500,
            dataset_field="dataset",
            default_dataset="circle",
            classifies=True,
            default=True,
            description="Two classes labelled +1 (blue) and -1 (orange); the output node is tanh.",
        )
    )
    register(
        Problem(
            name="regression",
            label="Regression",
            output_activation="linear",
            num_samples=1200,
            dataset_field="regDataset",
            default_dataset="reg-plane",
            classifies=False,
            description="A real-valued target; the output node is linear.",
        )
    )
