-- POSTs for wrk: cycles through the requests of a file ("path<TAB>json body" a line), and keeps
-- the id of every acknowledged (201) submission; at the end writes them to $WRK_ACKED.
--   wrk -t2 -c16 -d8s -s bench/wrk_post.lua http://127.0.0.1:PORT -- requests.tsv

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  paths, bodies = {}, {}
  for line in io.lines(args[1]) do
    local path, body = line:match("^(%S+)\t(.*)$")
    if path then
      table.insert(paths, path)
      table.insert(bodies, body)
    end
  end
  acked = {}
  counter = math.random(#paths)
  headers = {["Content-Type"] = "application/json"}
end

function request()
  counter = counter % #paths + 1
  return wrk.format("POST", paths[counter], headers, bodies[counter])
end

function response(status, _, body)
  if status == 201 then
    local id = body:match('"id":%s*(%d+)')
    if id then
      table.insert(acked, id)
    end
  end
end

function done()
  local out = os.getenv("WRK_ACKED")
  if not out then
    return
  end
  local f = assert(io.open(out, "w"))
  for _, thread in ipairs(threads) do
    for _, id in ipairs(thread:get("acked")) do
      f:write(id, "\n")
    end
  end
  f:close()
end
