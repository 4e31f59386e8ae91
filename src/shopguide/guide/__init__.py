"""The conversational shopping guide (导购): understanding, dialogue, knowledge graph, answers."""
