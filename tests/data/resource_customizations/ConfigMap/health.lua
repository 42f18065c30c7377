-- a core kind: <Kind>/health.lua. nil means an empty status; the built-in (none) is not consulted.
local state = obj.data and obj.data["state"]
if state == nil then
  return nil
end
local word, detail = string.match(state, "^(%a+):%s*(.*)$")
if word == "broken" then
  return {status = "Degraded", message = detail}
end
return {status = "Healthy", message = string.lower(state)}
