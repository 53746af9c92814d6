#!/usr/bin/env python3
"""Writes the shipped preset system files (agent graphs) of the paper's other styles (spec §4.2–4.4)
in this project's own wording, over this project's catalog models. Standard library only.
Run from the repository root:  python3 Tools/presets/make_presets.py
"""
import json

STEPS = "Step 1: ...\nStep 2: ...\n...\nStep n: ..."
MATH = {
    "free": "Solve the question with the information above, and put your final answer inside \\boxed{}, for example \\boxed{1}.",
    "choice": "Solve the question with the information above, and put the letter of your final choice inside \\boxed{}, for example \\boxed{A}.",
}
SINGLE = "Solve the question below.\nQuestion:\n{question}\n\n{instruction}"
DEFAULTS = {"latent_steps": 16, "max_tokens": 256, "max_latent_tokens": 80}
SOFT = ("Treat the feedback as a soft correction signal: use it where it helps, and where it conflicts with the question, "
        "keep to the question's constraints.")


def node(id, model, target, first, later=None, decoder="plain"):
    prompts = {"first_round": first}
    if later:
        prompts["later_rounds"] = later
    return {"id": id, "model": model, "target": target, "decoder": decoder, "prompts": prompts}


def edge(src, dst, slot, direction="forward"):
    return {"from": src, "to": dst, "slot": slot, "direction": direction, "link": "outer_ln_res_adapter"}


def mixture():
    experts = [("math", "qwen2.5-0.5b"), ("code", "qwen2.5-0.5b"), ("science", "smollm2-135m")]
    nodes = []
    for name, model in experts:
        task = f"Question:\n{{question}}\n\nGive a concise {name} expert's analysis of the question for the summarizer. Do not give the final answer."
        nodes.append(node(
            f"{name}_expert", model, f"{name}_expert",
            f"You are the {name} expert in a multi-agent system.\n" + task,
            f"You are the {name} expert in a recursive multi-agent system. This is round {{round}}.\n"
            f"Feedback signal from the previous summarizer round:\n{{slot:{name}_feedback}}\n\n{SOFT}\n" + task))
    signals = "".join(f"{name.capitalize()} expert signal:\n{{slot:{name}}}\n\n" for name, _ in experts)
    nodes.append(node(
        "summarizer", "qwen2.5-0.5b", "answer",
        "You are the summarizer agent in a multi-agent system.\n" + signals
        + "---\nYou may use the experts' signals above. Reason step by step and solve the problem below.\nQuestion:\n{question}\n\n{instruction}"))
    edges = [edge(f"{n}_expert", "summarizer", n) for n, _ in experts]
    edges += [edge("summarizer", f"{n}_expert", f"{n}_feedback", "feedback") for n, _ in experts]
    return {"style": "mixture", "system_prompt": "You are a helpful assistant.", "nodes": nodes, "edges": edges,
            "schedule": {"order": [f"{n}_expert" for n, _ in experts] + ["summarizer"], "answer": "summarizer", "rounds": 2,
                         "decode_every_round": True},
            "instructions": MATH, "single_prompt": SINGLE, "defaults": DEFAULTS}


def distillation():
    expert_task = ("Question:\n{question}\n\nGive the learner a concise, execution-ready plan it can follow. "
                   f"Do not give the final answer. Use exactly this format:\n{STEPS}")
    nodes = [
        node("expert", "qwen2.5-coder-1.5b", "plan", "You are the expert agent in a multi-agent system.\n" + expert_task,
             "You are the expert agent in a recursive multi-agent system. This is round {round}.\n"
             "Feedback signal from the previous round:\n{slot:feedback}\n\n" + SOFT + "\nGive an updated plan.\n" + expert_task),
        node("learner", "qwen2.5-0.5b", "answer",
             "You are the learner executor in a multi-agent system.\nExpert plan:\n{slot:expert}\n\n"
             "Use the expert plan as guidance, but where it conflicts with the question, keep to the question's constraints.\n"
             "---\nQuestion:\n{question}\n\n{instruction}"),
    ]
    edges = [edge("expert", "learner", "expert"), edge("learner", "expert", "feedback", "feedback")]
    return {"style": "distillation", "system_prompt": "You are a helpful assistant.", "nodes": nodes, "edges": edges,
            "schedule": {"order": ["expert", "learner"], "answer": "learner", "rounds": 2},
            "instructions": MATH, "single_prompt": SINGLE, "defaults": DEFAULTS}


def deliberation():
    system = ("You are a helpful assistant who solves problems step by step and may use a Python interpreter. Think first. "
              "To run code, write it between <python> and </python>; its output comes back between <result> and </result>. "
              "Give the final exact answer inside \\boxed{}.")
    task = "Question:\n{question}"
    nodes = [
        node("reflector", "qwen2.5-0.5b", "plan",
             "You are the reflector agent in a deliberation-style multi-agent system. Reflect on how to solve the question "
             f"and what to check.\n{task}\n\nReply with a short plan in exactly this format:\n{STEPS}",
             "You are the reflector agent in a deliberation-style multi-agent system. This is round {round}.\n"
             "Tool-caller feedback signal from the previous round:\n{slot:feedback}\n\nUse it as soft guidance.\n"
             f"{task}\n\nReply with a short plan in exactly this format:\n{STEPS}"),
        node("toolcaller", "qwen2.5-0.5b", "answer",
             "You are the tool-caller agent in a deliberation-style multi-agent system.\nReflector signal:\n{slot:reflector}\n\n"
             "Use the reflector's signal as soft guidance; you may use the Python tool.\n---\n" + task + "\n\n{instruction}",
             decoder={"tool_loop": {"tools": ["python"], "max_calls": 5}}),
    ]
    edges = [edge("reflector", "toolcaller", "reflector"), edge("toolcaller", "reflector", "feedback", "feedback")]
    return {"style": "deliberation", "system_prompt": system, "nodes": nodes, "edges": edges,
            "schedule": {"order": ["reflector", "toolcaller"], "answer": "toolcaller", "rounds": 2},
            "instructions": MATH, "single_prompt": SINGLE, "defaults": DEFAULTS}


for name, graph in [("mixture", mixture()), ("distillation", distillation()), ("deliberation", deliberation())]:
    with open(f"Sources/CLI/Resources/Presets/{name}.json", "w", encoding="utf-8") as f:
        f.write(json.dumps(graph, indent=2, ensure_ascii=False) + "\n")
