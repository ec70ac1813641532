package providers

// googleModels is the Generative Language and Vertex catalogue.
func googleModels() []Model {
	return ids("gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite",
		"gemini-3-pro-preview", "gemini-3-flash-preview", "gemini-3-pro-image-preview")
}

// vertex: Vertex AI, from vertex-api-key entries (express mode) and
// service-account files (imported, no login).
func vertex() Provider {
	return Provider{Kind: Vertex, AuthFile: true, KeyList: "vertex-api-key", Models: googleModels(), ModelType: "gemini", Owner: "google"}
}

// geminiAPIKey: the Generative Language API (AI Studio keys), from
// gemini-api-key entries only.
func geminiAPIKey() Provider {
	return Provider{Kind: GeminiAPIKey, KeyList: "gemini-api-key", Models: googleModels(), ModelType: "gemini", Owner: "google",
		Embeddings: ids("gemini-embedding-001")}
}

// aiStudio: Gemini through AI Studio relays (browser pages connected to
// /v1/ws).
func aiStudio() Provider {
	return Provider{
		Kind: AIStudio, Relay: true,
		Models: ids("gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite", "gemini-3-pro-preview",
			"gemini-3-flash-preview", "gemini-pro-latest", "gemini-flash-latest", "gemini-flash-lite-latest",
			"gemini-2.5-flash-image-preview", "gemini-2.5-flash-image"),
		ModelType: "gemini", Owner: "google",
	}
}
