"""The `openai-agents` package runs an agent with one function tool to its final answer
through aiport: the fake upstream calls the tool, then answers with its result — once
passed through (Responses API upstream) and once translated (chat-completions upstream)."""

from __future__ import annotations

import openai
import pytest
from agents import Agent, OpenAIResponsesModel, Runner, function_tool, set_tracing_disabled

from tests.support.server import MASTER_KEY, AiportProcess

set_tracing_disabled(True)  # the SDK would otherwise send traces to OpenAI


@pytest.mark.parametrize("model", ["agent-native", "agent-vllm"])
async def test_an_agent_calls_its_tool_and_answers(proxy: AiportProcess, model: str) -> None:
    calls: list[str] = []

    @function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        calls.append(city)
        return f"sunny in {city}"

    client = openai.AsyncOpenAI(base_url=proxy.base_url + "/v1", api_key=MASTER_KEY, max_retries=0)
    agent = Agent(
        name="weather",
        instructions="Answer with the weather.",
        tools=[get_weather],
        model=OpenAIResponsesModel(model=model, openai_client=client),
    )

    try:
        result = await Runner.run(agent, "What is the weather in Paris?")
    finally:
        await client.close()
    assert result.final_output == "The tool said: sunny in Paris"
    assert calls == ["Paris"]
