



function stackViewer(stacks, nodes) {
  'use strict';

  
  const ROW = 20;
  const PADDING = 2;
  const MIN_WIDTH = 4;
  const MIN_TEXT_WIDTH = 16;
  const TEXT_MARGIN = 2;
  const FONT_SIZE = 12;
  const MIN_FONT_SIZE = 8;

  
  let pivots = [];          
  let matches = new Set();  
  let elems = new Map();    
  let displayList = [];     
  let actionMenuOn = false; 
  let actionTarget = null;  
  let diff = false;         
  let shown = 0;            

  for (const stack of stacks.Stacks) {
    if (stack.Value < 0) {
      diff = true;
      break;
    }
  }

  
  const textSizer = document.createElement('canvas');
  textSizer.id = 'textsizer';
  const textContext = textSizer.getContext('2d');

  
  const chart = find('stack-chart');
  const search = find('search');
  const actions = find('action-menu');
  const actionTitle = find('action-title');
  const leftDetailBox = find('current-details-left');
  const rightDetailBox = find('current-details-right');

  window.addEventListener('resize', render);
  window.addEventListener('popstate', render);
  search.addEventListener('keydown', handleSearchKey);

  
  document.addEventListener('mousedown', (e) => {
    if (!actions.contains(e.target)) {
      hideActionMenu();
    }
  });
  actions.addEventListener('click', hideActionMenu);

  
  viewer(new URL(window.location.href), nodes, {
    hiliter: (n, on) => { return hilite(n, on); },
    current: () => {
      let r = new Map();
      if (pivots.length == 1 && pivots[0] == 0) {
        
      } else {
        for (let p of pivots) {
          r.set(p, true);
        }
      }
      return r;
    }});

  render();
  clearDetails();

  

  
  function hilite(src, on) {
    if (on) {
      matches.add(src);
    } else {
      matches.delete(src);
    }
    toggleClass(src, 'hilite', on);
    return true;
  }

  
  function showActionMenu(e, box) {
    if (box.src == 0) return; 
    e.preventDefault(); 
    const src = stacks.Sources[box.src];
    actionTitle.innerText = src.Display[src.Display.length-1];
    const menu = actions;
    menu.style.display = 'block';
    
    const x = Math.min(e.clientX - 10, document.body.clientWidth - menu.clientWidth);
    const y = Math.min(e.clientY - 10, document.body.clientHeight - menu.clientHeight);
    menu.style.left = x + 'px';
    menu.style.top = y + 'px';
    
    setHrefParam('action-source', 'f', box.src);
    setHrefParam('action-source-tab', 'f', box.src);
    setHrefParam('action-focus', 'f', box.src);
    setHrefParam('action-ignore', 'i', box.src);
    setHrefParam('action-hide', 'h', box.src);
    setHrefParam('action-showfrom', 'sf', box.src);
    toggleClass(box.src, 'hilite2', true);
    actionTarget = box;
    actionMenuOn = true;
  }

  function hideActionMenu() {
    actions.style.display = 'none';
    actionMenuOn = false;
    if (actionTarget != null) {
      toggleClass(actionTarget.src, 'hilite2', false);
    }
  }

  
  
  function setHrefParam(id, param, src) {
    const elem = document.getElementById(id);
    if (!elem) return;

    let url = new URL(elem.href);
    url.hash = '';

    
    const params = url.searchParams;
    for (const p of new URLSearchParams(window.location.search)) {
      params.set(p[0], p[1]);
    }

    
    
    
    let v = pprofQuoteMeta(stacks.Sources[src].FullName.replace(/:[0-9]+$/, ''));
    if (param != 'f' && param != 'sf') { 
      
      const old = params.get(param);
      if (old && old != '') {
        v += '|' + old;
      }
    }
    params.set(param, v);

    elem.href = url.toString();
  }

  
  function handleSearchKey(e) {
    if (e.key != 'Enter') return;
    e.stopImmediatePropagation();  
    const val = search.value;
    try {
      new RegExp(search.value);
    } catch (error) {
      return;  
    }
    switchPivots(val);
  }

  function switchPivots(regexp) {
    
    const url = new URL(document.URL);
    if (regexp === '' || regexp === '^$') {
      url.searchParams.delete('p');  
    } else {
      url.searchParams.set('p', regexp);
    }
    history.pushState('', '', url.toString()); 
    matches = new Set();
    search.value = '';
    render();
  }

  function handleEnter(box, div) {
    if (actionMenuOn) return;
    const src = stacks.Sources[box.src];
    div.title = details(box) + ' │ ' + src.FullName + (src.Inlined ? "\n(inlined)" : "");
    leftDetailBox.innerText = src.FullName + (src.Inlined ? " (inlined)" : "");
    let timing = summary(box.sumpos, box.sumneg);
    if (box.self != 0) {
      timing = "self " + unitText(box.self) + " │ " + timing;
    }
    rightDetailBox.innerText = timing;
    
    toggleClass(box.src, 'hilite2', true);
  }

  function handleLeave(box) {
    if (actionMenuOn) return;
    clearDetails();
    toggleClass(box.src, 'hilite2', false);
  }

  function clearDetails() {
    leftDetailBox.innerText = '';
    rightDetailBox.innerText = percentText(shown);
  }

  
  function urlPivots() {
    const pivots = [];
    const params = (new URL(document.URL)).searchParams;
    const val = params.get('p');
    if (val !== null && val != '') {
      try {
        const re = new RegExp(val);
        for (let i = 0; i < stacks.Sources.length; i++) {
          const src = stacks.Sources[i];
          if (re.test(src.UniqueName) || re.test(src.FileName)) {
            pivots.push(i);
          }
        }
      } catch (error) {}
    }
    if (pivots.length == 0) {
      pivots.push(0);
    }
    return pivots;
  }

  
  function render() {
    pivots = urlPivots();

    
    let places = [];
    for (let pivot of pivots) {
      const src = stacks.Sources[pivot];
      for (let p of src.Places) {
        places.push(p);
      }
    }

    const width = chart.clientWidth;
    elems.clear();
    actionTarget = null;
    const [pos, neg] = totalValue(places);
    const total = pos + neg;
    const xscale = (width-2*PADDING) / total; 
    const x = PADDING;
    const y = 0;

    
    const showPivotSummary = !(pivots.length == 1 && pivots[0] == 0);

    shown = pos + neg;
    displayList.length = 0;
    renderStacks(0, xscale, x, y, places, +1);  
    renderStacks(0, xscale, x, y-ROW, places, -1);  
    display(xscale, pos, neg, displayList, showPivotSummary);
  }

  
  
  
  function renderStacks(depth, xscale, x, y, places, direction) {
    
    
    
    
    
    
    
    
    
    const groups = partitionPlaces(places);
    for (const g of groups) {
      renderGroup(depth, xscale, x, y, g, direction);
      x += groupWidth(xscale, g);
    }
  }

  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  
  

  function groupWidth(xscale, g) {
    return xscale * (g.sumpos + g.sumneg);
  }

  function renderGroup(depth, xscale, x, y, g, direction) {
    
    const width = groupWidth(xscale, g);
    if (width < MIN_WIDTH) return;

    
    
    if (depth != 0 || direction > 0) {
      const box = {
        x:      x,
        y:      y,
        width:  width,
        src:    g.src,
        sumpos: g.sumpos,
        sumneg: g.sumneg,
        self:   g.self,
      };
      displayList.push(box);
      if (direction > 0) {
        
        x += xscale*Math.abs(g.self);
      }
    }
    y += direction * ROW;

    
    const next = [];
    for (const place of g.places) {
      const stack = stacks.Stacks[place.Stack];
      const nextSlot = place.Pos + direction;
      if (nextSlot >= 0 && nextSlot < stack.Sources.length) {
        next.push({Stack: place.Stack, Pos: nextSlot});
      }
    }
    renderStacks(depth+1, xscale, x, y, next, direction);
  }

  
  
  
  function partitionPlaces(places) {
    
    const stackMap = new Map();  
    for (const place of places) {
      const prevSlot = stackMap.get(place.Stack);
      if (prevSlot && prevSlot <= place.Pos) {
        
      } else {
        stackMap.set(place.Stack, place.Pos);
      }
    }

    
    const groups = [];           
    const groupMap = new Map();  
    for (const place of places) {
      if (stackMap.get(place.Stack) != place.Pos) {
        continue;
      }

      const stack = stacks.Stacks[place.Stack];
      const src = stack.Sources[place.Pos];
      let group = groupMap.get(src);
      if (!group) {
        const name = stacks.Sources[src].FullName;
        group = {name: name, src: src, sumpos: 0, sumneg: 0, self: 0, places: []};
        groupMap.set(src, group);
        groups.push(group);
      }
      if (stack.Value < 0) {
        group.sumneg += -stack.Value;
      } else {
        group.sumpos += stack.Value;
      }
      group.self += (place.Pos == stack.Sources.length-1) ? stack.Value : 0;
      group.places.push(place);
    }

    
    
    
    groups.sort(function(a, b) {
      return (b.sumpos + b.sumneg) - (a.sumpos + a.sumneg);
    });

    return groups;
  }

  function display(xscale, posTotal, negTotal, list, showPivotSummary) {
    
    list.sort(function(a, b) {
      if (a.y != b.y) return a.y - b.y;
      return a.x - b.x;
    });

    
    let adjust = (list.length > 0) ? list[0].y : 0;

    const divs = [];
    for (const box of list) {
      box.y -= adjust;
      divs.push(drawBox(xscale, box));
    }
    if (showPivotSummary) {
      divs.push(drawSep(-adjust, posTotal, negTotal));
    }

    const h = (list.length > 0 ?  list[list.length-1].y : 0) + 4*ROW;
    chart.style.height = h+'px';
    chart.replaceChildren(...divs);
  }

  function drawBox(xscale, box) {
    const srcIndex = box.src;
    const src = stacks.Sources[srcIndex];

    function makeRect(cl, x, y, w, h) {
      const r = document.createElement('div');
      r.style.left = x+'px';
      r.style.top = y+'px';
      r.style.width = w+'px';
      r.style.height = h+'px';
      r.classList.add(cl);
      return r;
    }

    
    const w = box.width - 1; 
    const r = makeRect('boxbg', box.x, box.y, w, ROW);
    if (!diff) r.style.background = makeColor(src.Color);
    addElem(srcIndex, r);
    if (!src.Inlined) {
      r.classList.add('not-inlined');
    }

    
    if (diff) {
      const delta = box.sumpos - box.sumneg;
      const partWidth = xscale * Math.abs(delta);
      if (partWidth >= MIN_WIDTH) {
        r.appendChild(makeRect((delta < 0 ? 'negative' : 'positive'),
                               0, 0, partWidth, ROW-1));
      }
    }

    
    if (box.width >= MIN_TEXT_WIDTH) {
      const t = document.createElement('div');
      t.classList.add('boxtext');
      fitText(t, box.width-2*TEXT_MARGIN, src.Display);
      r.appendChild(t);
    }

    onClick(r, () => { switchPivots(pprofQuoteMeta(src.UniqueName)); });
    r.addEventListener('mouseenter', () => { handleEnter(box, r); });
    r.addEventListener('mouseleave', () => { handleLeave(box); });
    r.addEventListener('contextmenu', (e) => { showActionMenu(e, box); });
    return r;
  }

  
  function onClick(target, handler) {
    
    const threshold = 3;
    let [x, y] = [-1, -1];
    target.addEventListener('mousedown', (e) => {
      [x, y] = [e.clientX, e.clientY];
    });
    target.addEventListener('click', (e) => {
      if (Math.abs(e.clientX - x) <= threshold &&
          Math.abs(e.clientY - y) <= threshold) {
        handler();
      }
    });
  }

  function drawSep(y, posTotal, negTotal) {
    const m = document.createElement('div');
    m.innerText = summary(posTotal, negTotal);
    m.style.top = (y-ROW) + 'px';
    m.style.left = PADDING + 'px';
    m.style.width = (chart.clientWidth - PADDING*2) + 'px';
    m.classList.add('separator');
    return m;
  }

  
  function addElem(src, elem) {
    let list = elems.get(src);
    if (!list) {
      list = [];
      elems.set(src, list);
    }
    list.push(elem);
    elem.classList.toggle('hilite', matches.has(src));
  }

  
  function toggleClass(src, cl, value) {
    const list = elems.get(src);
    if (list) {
      for (const elem of list) {
        elem.classList.toggle(cl, value);
      }
    }
  }

  
  function fitText(t, avail, textList) {
    
    let width = avail;
    textContext.font = FONT_SIZE + 'pt Arial';
    for (let i = 0; i < textList.length; i++) {
      let text = textList[i];
      width = textContext.measureText(text).width;
      if (width <= avail) {
        t.innerText = text;
        return;
      }
    }

    
    let text = textList[textList.length-1];
    const fs = Math.max(MIN_FONT_SIZE, FONT_SIZE * (avail / width));
    t.style.fontSize = fs + 'pt';
    t.innerText = text;
  }

  
  
  function totalValue(places) {
    const seen = new Set();
    let pos = 0;
    let neg = 0;
    for (const place of places) {
      if (seen.has(place.Stack)) continue; 
      seen.add(place.Stack);
      const stack = stacks.Stacks[place.Stack];
      if (stack.Value < 0) {
        neg += -stack.Value;
      } else {
        pos += stack.Value;
      }
    }
    return [pos, neg];
  }

  function summary(pos, neg) {
    
    
    
    return diff ? diffText(neg, pos) : percentText(pos);
  }

  function details(box) {
    
    
    
    
    let result = percentText(box.sumpos - box.sumneg);
    if (box.self != 0) {
      result += " │ self " + unitText(box.self);
    }
    if (diff && box.sumpos > 0 && box.sumneg > 0) {
      result += " │ " + diffText(box.sumneg, box.sumpos);
    }
    return result;
  }

  
  
  function diffText(from, to) {
    return percentText(from) + " 🠆 " + percentText(to);
  }

  
  
  function percentText(v) {
    function percent(v, total) {
      return Number(((100.0 * v) / total).toFixed(1)) + '%';
    }
    return unitText(v) + " (" + percent(v, stacks.Total) + ")";
  }

  
  function unitText(value) {
    return pprofUnitText(value*stacks.Scale, stacks.Unit);
  }

  function find(name) {
    const elem = document.getElementById(name);
    if (!elem) {
      throw 'element not found: ' + name
    }
    return elem;
  }

  function makeColor(index) {
    
    
    
    const PHI = 1.618033988;
    const hue = (index+1) * PHI * 2 * Math.PI; 
    const hsl = `hsl(${hue}rad 50% 80%)`;
    return hsl;
  }
}


function pprofUnitText(value, unit) {
  const sign = (value < 0) ? "-" : "";
  let v = Math.abs(value);
  
  let list = null;
  for (const def of pprofUnitDefs) {
    if (def.DefaultUnit.CanonicalName == unit) {
      list = def.Units;
      v *= def.DefaultUnit.Factor;
      break;
    }
  }
  if (list) {
    
    for (let i = 0; i < list.length; i++) {
      if (i == list.length-1 || list[i+1].Factor > v) {
        v /= list[i].Factor;
        unit = list[i].CanonicalName;
        break;
      }
    }
  }
  return sign + Number(v.toFixed(2)) + unit;
}
